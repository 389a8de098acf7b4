"""``afq demo`` (and ``make demo``): builds its files and runs every federated query."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector import handler
from connector.cli import main


def test_demo_runs_and_shows_pushdown(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                      tmp_path: Path) -> None:
    for name in ("shop_connection_string", "support_connection_string", "sqlite_rows_per_split"):
        monkeypatch.setenv(name, "")  # the demo sets these; monkeypatch restores them afterwards
    try:
        code = main(["demo", "--dir", str(tmp_path / "demo")])
    finally:
        handler.reset()
    out = capsys.readouterr().out
    assert code == 0
    for path in ("shop.db", "support.db", "lake/web/visits.parquet"):
        assert (tmp_path / "demo" / path).is_file()
    for expected in (
            "summary (value sets):", "orderByClause: amount DESC_NULLS_LAST",
            "params: [1, 1001, 990.0, 'pending', 'shipped']",
            "columns read: (none: only the row count is used)", "expression: $or($like_pattern(note, 'rush%')",
            "lake table lake.web.visits AS v", "  1750 | 999.98 | shipped", "(12 rows)", "(4 rows)"):
        assert expected in out, expected
    assert out.count("result:") == 3
