"""The worked policy in docs/access-control.md does what the page says, on the demo database."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from connector.errors import ConnectorError
from connector.local.engine import LocalAthena, QueryOptions
from connector.local.targets import InProcessTarget
from connector.protocol import Identity

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-control.md"
ANALYST = Identity(account="111122223333", arn="arn:aws:iam::111122223333:user/ana", tags={"team": "analytics"})
SCIENTIST = Identity(account="111122223333", arn="arn:aws:iam::111122223333:role/DataScience-Prod")
ADMIN = Identity(account="111122223333", arn="arn:aws:iam::111122223333:user/root", groups=("data-admins",))


def run(sql: str, identity: Identity) -> list[dict]:
    athena = LocalAthena(InProcessTarget(), QueryOptions(default_catalog="shop", identity=identity))
    try:
        return athena.run(sql).table.to_pylist()
    finally:
        athena.close()


@pytest.fixture
def documented_policy(lambda_env: Callable[..., None], demo_db: Path, tmp_path: Path) -> None:
    (block,) = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    path = tmp_path / "policy.yaml"
    path.write_text(block)
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}", access_policy=str(path),
              access_identity_protection="unverified_local")


def test_worked_policy(documented_policy: None) -> None:
    regions = run("SELECT region, count(*) AS n FROM main.customers GROUP BY region", ANALYST)
    assert [r["region"] for r in regions] == ["emea"]
    names = {r["name"] for r in run("SELECT name FROM main.customers", ANALYST)}
    assert names == {"REDACTED"}
    hashed = run('SELECT id, "email address" FROM main.customers WHERE id = 3', SCIENTIST)
    analyst_view = run('SELECT id, "email address" FROM main.customers WHERE id = 3', ANALYST)
    assert hashed == analyst_view and len(hashed[0]["email address"]) == 64
    orders = run("SELECT max(amount) AS top, count(*) AS n FROM main.orders", ANALYST)[0]
    assert orders["top"] < 500
    assert run('SELECT "email address" FROM main.customers WHERE id = 3', ADMIN) == [
        {"email address": "customer3@example.com"}]
    with pytest.raises(ConnectorError, match="cannot be resolved"):
        run("SELECT vip FROM main.customers", ANALYST)
