"""Shared fixtures. Real servers live in tests/servers/ and are registered below as plugins."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from connector import handler
from connector.local.wire_check import check_response

pytest_plugins: list[str] = ["tests.servers.moto", "tests.servers.fakesnow", "tests.servers.h2", "tests.servers.s3",
                             "tests.servers.lambda_runtime", "tests.servers.lambda_bundles", "tests.servers.postgres",
                             "tests.servers.engines", "tests.servers.s3_faults"]

# `make test` must give the same answer on every run: property tests draw a fixed sequence of examples there.
# `make fuzz` (HYPOTHESIS_PROFILE=dev) explores new examples and keeps failures in .hypothesis/.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "protocol-fixtures"


@pytest.fixture
def shared_fixtures() -> Path:
    """The reference SDK's golden messages; a user's clone has no ../shared, so skip cleanly."""
    if not FIXTURES.is_dir():
        pytest.skip("../shared/protocol-fixtures is not present in this checkout")
    return FIXTURES


@pytest.fixture
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from connector.demo_data import create_demo_database

    return Path(create_demo_database(str(tmp_path_factory.mktemp("demo") / "demo.db")))


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., None]]:
    """Set connector environment variables for one test; the handler is rebuilt around them."""
    for name in ("default", "spill_bucket", "spill_prefix", "disable_spill_encryption", "kms_key_id",
                 "casing_mode", "MAX_BLOCK_SIZE_BYTES", "AWS_LAMBDA_FUNCTION_NAME", "enable_query_passthrough"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AFQ_LOCAL_SPILL_DIR", str(tmp_path / "spill"))

    def configure(**env: str) -> None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        handler.reset()

    handler.reset()
    yield configure
    handler.reset()


@pytest.fixture
def invoke() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Call the Lambda handler like the runtime does (JSON in, JSON out), checking the response key order."""

    def call(event: dict[str, Any]) -> dict[str, Any]:
        response = handler.lambda_handler(json.loads(json.dumps(event)))
        assert isinstance(response, dict)
        round_tripped = json.loads(json.dumps(response))
        problems = check_response(round_tripped, exact=True)
        assert not problems, problems
        return round_tripped

    return call
