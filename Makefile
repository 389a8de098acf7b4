# Every target sets up what it needs, so `make demo` and `make test` work on a fresh machine.
# Set-up is idempotent: the venv and the apt packages are reused when they are already there.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := postgresql libpostgresql-jdbc-java libh2-java default-jre-headless

.PHONY: demo test check fuzz fuzz-atheris lint typecheck unit bench bench-quick package sam-validate clean apt venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	@touch $(STAMP)

apt:
	@./.ci/apt-packages $(APT_PACKAGES)

demo: $(STAMP)
	$(BIN)/afq demo

lint: $(STAMP)
	$(BIN)/ruff check connector adapters spill sar tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) apt lint typecheck
	$(BIN)/pytest -q

# Property tests with fresh random examples (make test replays a fixed sequence so CI is reproducible).
fuzz: $(STAMP) apt
	HYPOTHESIS_PROFILE=dev $(BIN)/pytest -q

# Coverage-guided fuzzing of the request parser and block decoder (atheris); crashes are written to fuzz-out/.
FUZZ_RUNS ?= 200000
fuzz-atheris: $(STAMP)
	@mkdir -p fuzz-out/corpus
	$(BIN)/python -m tests.fuzz.atheris_requests -runs=$(FUZZ_RUNS) -max_len=65536 -artifact_prefix=fuzz-out/ fuzz-out/corpus

check: $(STAMP) lint typecheck
	$(BIN)/pytest -q -m "not slow and not integration" -x

bench: $(STAMP) apt
	$(BIN)/python -m bench.run

# Every benchmark at small sizes (a few minutes): checks they run; bench/README.md is left as it is.
bench-quick: $(STAMP) apt
	$(BIN)/python -m bench.run --quick

# Lambda zips into dist/: `make package`, or `make package ADAPTERS=oracle ARCH=arm64` (see sar/README.md).
ADAPTERS ?= sqlite generic oracle snowflake teradata
ARCH ?= x86_64
package: $(STAMP)
	@for a in $(ADAPTERS); do \
	  if [ "$$a" != generic ] && [ ! -f adapters/$$a.py ]; then echo "skip $$a: adapters/$$a.py is not in this checkout"; continue; fi; \
	  $(BIN)/afq package $$a --arch $(ARCH) --out dist || exit 1; \
	done

# Optional: `sam validate --lint` on every template, from its own venv (aws-sam-cli pins other package versions).
sam-validate:
	@test -x .venv-sam/bin/sam || { $(PYTHON) -m venv .venv-sam && .venv-sam/bin/pip install --quiet aws-sam-cli; }
	@for t in sar/*.yaml; do SAM_CLI_TELEMETRY=0 .venv-sam/bin/sam validate --lint --region us-east-1 -t $$t || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

# fakesnow (Snowflake emulator for tests) pins its own sqlglot/duckdb/connector: it lives in .venv-fakesnow.
# The test fixture creates it on first use too; this target does it ahead of time.
.PHONY: fakesnow-venv
fakesnow-venv: $(STAMP)
	$(BIN)/python -m tests.servers.fakesnow
