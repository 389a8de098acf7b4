"""The SQLite engine, declared for the registry, packaging and docs (imports nothing heavy)."""

from __future__ import annotations

from adapters.sql.settings import CASING_MODE
from connector.engines import Bundle, EngineDeclaration, Setting

ENGINE = EngineDeclaration(
    name="sqlite",
    adapter="adapters.sqlite.adapter:SqliteAdapter",
    source_type="sqlite",
    summary="SQLite database files, opened read-only (the zero-setup default)",
    example="sqlite://jdbc:sqlite:/opt/data/demo.db",
    settings=(
        CASING_MODE,
        Setting("sqlite_rows_per_split", int, None, "read big tables in parallel rowid ranges of this many rows "
                "(unset: one split per table)", low=1),
    ),
    bundle=Bundle("sqlite", ("aws",), ("adapters.sqlite.adapter",), "the embedded SQLite adapter"),
    docs="README.md",
)
