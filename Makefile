# Every target sets up what it needs, so `make demo` and `make test` work on a fresh machine.
# Set-up is idempotent: the venv and the apt packages are reused when they are already there.
#
# Versions: every environment installs from a committed lock, hash-checked - .venv from uv.lock, uv itself from
# .ci/requirements-uv.txt, each tool venv from its requirements-<tool>.txt. `make lock` is the only thing that
# changes them; nothing else resolves versions.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
# default-jdk-headless: javac for the JDBC adapter's Java helper (adapters/jdbc/java/, built by `make jdbc-helper`).
APT_PACKAGES := postgresql libpostgresql-jdbc-java libh2-java default-jre-headless default-jdk-headless faketime
# Tool venvs pin versions .venv cannot share: each has a requirements-<tool>.in and its compiled, hashed .txt.
# A tool that needs another Python says so on the first line of its .in file (`# requires python 3.12`).
TOOL_LOCKS := $(basename $(shell find tests sar bench -name 'requirements-*.in'))
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: demo test check fuzz fuzz-atheris lint typecheck unit bench bench-quick package sar sam-validate clean apt venv lock tpcds \
	jdbc-helper

venv: $(STAMP)

# uv, at the version uv.lock pins, installed by the interpreter's own pip with hash checking.
$(UV): .ci/requirements-uv.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --default-pip >/dev/null
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r .ci/requirements-uv.txt
	@touch $(UV)

# Exactly the lock (--locked also fails when pyproject.toml changed without `make lock`). The project is built
# by the locked setuptools inside .venv, so the first sync installs everything but the project.
$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --quiet --no-install-project
	$(UV) sync --locked --quiet
	@touch $(STAMP)

# Refresh every lock to the newest releases the ranges in pyproject.toml and the .in files allow; then run
# `make test` to see what broke. Commit the changed lock files together.
lock: $(UV)
	$(UV) lock --upgrade
	$(UV) export --frozen --only-group bootstrap --no-emit-project --no-header --format requirements-txt \
	  -o .ci/requirements-uv.txt
	@for f in $(TOOL_LOCKS); do \
	  py=$$(sed -n '1s/^# *requires python \([0-9.]*\) *$$/\1/p' $$f.in); \
	  $(UV) pip compile --quiet --upgrade --universal --generate-hashes --python-version $${py:-3.11} \
	    --custom-compile-command "make lock" $$f.in -o $$f.txt || exit 1; \
	done

apt:
	@./.ci/apt-packages $(APT_PACKAGES)

# The JDBC adapter's Java helper (columnar reads), compiled with javac into the user cache ($$AFQ_CACHE_DIR/jdbc or
# ~/.cache/afq/jdbc); the adapter also compiles it on first use, and `afq package generic` puts it in the bundle.
jdbc-helper: $(STAMP) apt
	@$(BIN)/python -m adapters.jdbc.helper >/dev/null


# The demo needs only the SQLite path: the project, its [local] extra (DuckDB, boto3, cryptography) and the locked
# setuptools that builds it - about a sixth of the full environment, from the same uv.lock. --inexact adds to
# whatever .venv holds, so `make demo` and `make test` follow each other in either order; when the full
# environment is installed from this very lock, there is nothing to add.
$(DEMO_STAMP): $(UV) pyproject.toml uv.lock
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt uv.lock ] && [ $(STAMP) -nt pyproject.toml ]; then :; else \
	  $(UV) sync --locked --inexact --quiet --no-default-groups --group build --extra local --no-install-project && \
	  $(UV) sync --locked --inexact --quiet --no-default-groups --group build --extra local; fi
	@touch $@

demo: $(DEMO_STAMP)
	$(BIN)/afq demo

lint: $(STAMP)
	$(BIN)/ruff check connector adapters spill sar tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) apt lint typecheck fakesnow-venv jdbc-helper
	$(BIN)/pytest -q

# Property tests with fresh random examples (make test replays a fixed sequence so CI is reproducible); the
# differential fuzzer (tests/differential/test_fuzzer.py) runs 150 tables per engine instead of 12.
fuzz: $(STAMP) apt
	HYPOTHESIS_PROFILE=dev $(BIN)/pytest -q

# Coverage-guided fuzzing of the request parser and block decoder (atheris); crashes are written to fuzz-out/.
FUZZ_RUNS ?= 200000
fuzz-atheris: $(STAMP)
	@mkdir -p fuzz-out/corpus
	$(BIN)/python -m tests.fuzz.atheris_requests -runs=$(FUZZ_RUNS) -max_len=65536 -artifact_prefix=fuzz-out/ fuzz-out/corpus

check: $(STAMP) lint typecheck
	$(BIN)/pytest -q -m "not slow and not integration" -x

bench: $(STAMP) apt jdbc-helper bench-venvs
	$(BIN)/python -m bench.run

# Every benchmark at small sizes (a few minutes): checks they run; bench/README.md is left as it is.
bench-quick: $(STAMP) apt jdbc-helper bench-venvs
	$(BIN)/python -m bench.run --quick

# The 99 TPC-DS queries through afq over SQLite and PostgreSQL (SF 0.01, data generated once into .tpcds-cache/
# by DuckDB's tpcds extension in .venv-tpcds), each compared with DuckDB's answer; `make test` runs a subset on
# SQLite. TPCDS_SF=0.1 for more data; the summary is in bench/tpcds/results.json and docs/local-athena.md.
TPCDS_SF ?= 0.01
tpcds: $(STAMP) apt
	$(BIN)/python -u -m bench.tpcds.run --source all --sf $(TPCDS_SF) --json bench/tpcds/results.json

# Lambda zips into dist/: `make package`, or `make package ADAPTERS=oracle ARCH=arm64` (see sar/README.md).
# The default is every bundle the engines declare (adapters/<engine>/engine.py), read when the target runs.
ADAPTERS ?= $(shell $(BIN)/python -c 'from connector.packaging import bundles; print(*bundles())')
ARCH ?= x86_64
package: $(STAMP)
	@for a in $(ADAPTERS); do \
	  $(BIN)/afq package $$a --arch $(ARCH) --out dist || exit 1; \
	done

# sar/<bundle>.yaml, rendered from the engine declarations (connector/packaging/sar_template.py); checked in so
# `sam deploy --template-file sar/<bundle>.yaml` works from a clone. The tests fail while one is out of date.
sar: $(STAMP)
	$(BIN)/python -m connector.packaging.sar_template sar

# Optional: `sam validate --lint` on every template, from its own venv (aws-sam-cli pins other package versions).
sam-validate: $(STAMP)
	@$(BIN)/python -m tests.servers.tool_venv sar/requirements-sam.txt .venv-sam >/dev/null
	@for t in sar/*.yaml; do SAM_CLI_TELEMETRY=0 .venv-sam/bin/sam validate --lint --region us-east-1 -t $$t || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

# bench/'s own tool venvs: the peer Python SDK (athena-federation on PyPI, Python 3.12) that bench/cold_start.py
# compares with, and matplotlib for the report's plot (kept out of .venv: with numpy there, pyarrow imports it).
.PHONY: bench-venvs
bench-venvs: $(STAMP)
	@$(BIN)/python -m tests.servers.tool_venv bench/requirements-peer.txt .venv-peer >/dev/null
	@$(BIN)/python -m tests.servers.tool_venv bench/requirements-plot.txt .venv-plot >/dev/null

# fakesnow (Snowflake emulator for tests) pins its own sqlglot/duckdb/connector: it lives in .venv-fakesnow.
# The test fixture creates it on first use too; this target does it ahead of time.
.PHONY: fakesnow-venv
fakesnow-venv: $(STAMP)
	@$(BIN)/python -m tests.servers.tool_venv tests/servers/requirements-fakesnow.txt .venv-fakesnow >/dev/null
