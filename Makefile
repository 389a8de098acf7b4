# Every target sets up what it needs, so `make demo` and `make test` work on a fresh machine.
# Set-up is idempotent: the venv and the apt packages are reused when they are already there.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := postgresql libpostgresql-jdbc-java libh2-java default-jre-headless

.PHONY: demo test check lint typecheck unit bench package clean apt venv

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

check: $(STAMP) lint typecheck
	$(BIN)/pytest -q -m "not slow and not integration" -x

bench: $(STAMP) apt
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

# fakesnow (Snowflake emulator for tests) pins its own sqlglot/duckdb/connector: it lives in .venv-fakesnow.
# The test fixture creates it on first use too; this target does it ahead of time.
.PHONY: fakesnow-venv
fakesnow-venv: $(STAMP)
	$(BIN)/python -m tests.servers.fakesnow
