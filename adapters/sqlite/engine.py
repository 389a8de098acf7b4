"""The SQLite engine, declared for the registry, packaging and docs (imports nothing heavy)."""

from __future__ import annotations

from adapters.sql.settings import CASING_MODE
from connector.engines import Bundle, EngineDeclaration, SarApp, Setting

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
    bundle=Bundle(
        "sqlite", ("aws",), ("adapters.sqlite.adapter",), "the embedded SQLite adapter",
        sar=SarApp(
            product="SQLite",
            headline="SQLite Amazon Athena Federated Query connector (athena-federation-py, Python): SQLite "
                     "database files from a Lambda layer (or EFS); the smallest bundle: the framework, pyarrow, "
                     "sqlglot and cryptography, no driver.",
            about="The athena-federation-py framework with the SQLite adapter only: query SQLite database files "
                  "shipped in a Lambda layer (or on EFS) from Athena, with exact pushdown and encrypted spill.",
            example="sqlite://jdbc:sqlite:/opt/data/my.db (an absolute path: a database file from a layer, opened "
                    "read-only)",
            connection_pattern="^sqlite://jdbc:sqlite:/.+$",
            connection_form="sqlite://jdbc:sqlite:/absolute/path.db, e.g. sqlite://jdbc:sqlite:/opt/data/my.db",
            secret_json="",
            secret_optional=True,
            secret_help="The function may read the Secrets Manager secrets whose names start with this prefix; "
                        "SQLite needs no secret, so leave it empty (no secret access at all) unless an access "
                        "policy is kept in Secrets Manager. No wildcards.",
            vpc_help="Needed when the source is in a VPC.",
            layers_help="Optional Lambda layer ARNs holding the SQLite database files (a layer's files appear "
                        "under /opt), comma-separated, at most 5.")),
    docs="README.md",
)
