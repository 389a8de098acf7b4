"""The Teradata engine, declared for the registry, packaging and docs (imports nothing heavy)."""

from __future__ import annotations

from adapters.sql.settings import CASING_MODE
from connector.engines import Bundle, EngineDeclaration, SarApp, Setting

DEFAULT_SPLITS = 4
MAX_SPLITS = 1024

ENGINE = EngineDeclaration(
    name="teradata",
    adapter="adapters.teradata.adapter:TeradataAdapter",
    source_type="teradata",
    summary="Teradata through teradatasql, hash buckets as parallel splits",
    example="teradata://jdbc:teradata://dbhost/TMODE=ANSI,CHARSET=UTF8,${teradata/athena}",
    settings=(
        CASING_MODE,
        Setting("teradata_split_count", int, DEFAULT_SPLITS, "splits per table (hash buckets)", low=1,
                high=MAX_SPLITS),
    ),
    requirements=("teradatasql>=20",),
    bundle=Bundle("teradata", ("aws", "teradata"), ("adapters.teradata.adapter",), "Teradata through teradatasql",
                  sar=SarApp(
                      headline="Amazon Athena Federated Query connector for Teradata (athena-federation-py, "
                               "Python, teradatasql).",
                      about="Query Teradata from Amazon Athena: filter, LIMIT and top-N pushdown through bind "
                            "parameters, exact DECIMAL and TIMESTAMP types, parallel reads by hash bucket, "
                            "encrypted spill.",
                      connection_form="teradata://jdbc:teradata://host/TMODE=ANSI,CHARSET=UTF8,${secret}")),
    docs="docs/teradata.md",
)
