"""The Oracle engine, declared for the registry, packaging and docs (imports nothing heavy)."""

from __future__ import annotations

from adapters.sql.settings import CASING_MODE, default_scale
from connector.engines import Bundle, EngineDeclaration, SarApp, Setting

#: Most ORA_HASH buckets one table is read as.
MAX_SPLITS = 4096

ENGINE = EngineDeclaration(
    name="oracle",
    adapter="adapters.oracle.adapter:OracleAdapter",
    source_type="oracle",
    summary="Oracle 12.1 and later through python-oracledb (thin mode)",
    example="oracle://jdbc:oracle:thin:${oracle/athena}@//dbhost:1521/ORCLPDB1",
    settings=(
        CASING_MODE,
        default_scale(10),
        Setting("oracle_unconstrained_number", str, "decimal", "NUMBER without precision as decimal(38, "
                "default_scale) or as varchar (Oracle's exact text)", choices=("decimal", "varchar"),
                refusal="decimal: decimal(38, default_scale), a value that does not fit is an error; varchar: "
                        "Oracle's exact text of every value"),
        Setting("oracle_splits", int, 8, "ORA_HASH buckets for a big unpartitioned table", low=1, high=MAX_SPLITS),
        Setting("oracle_split_min_rows", int, 1_000_000, "ALL_TABLES.NUM_ROWS from which a table is split into "
                "buckets", low=1, high=2**62),
        Setting("oracle_fetch_rows", int, 10_000, "rows per Arrow batch", low=1, high=1_000_000),
        Setting("oracle_limit_style", str, "auto", "how a LIMIT is written: FETCH FIRST n ROWS ONLY",
                choices=("auto", "fetch"),
                refusal="only FETCH FIRST n ROWS ONLY is generated - python-oracledb thin mode connects to Oracle "
                        "12.1 and later only, so the 11g ROWNUM form could never run"),
        Setting("oracle_connect_timeout", float, 10.0, "seconds for the TCP connect and, separately, for the "
                "whole login"),
    ),
    requirements=("oracledb>=2.4",),
    bundle=Bundle("oracle", ("aws", "oracle"), ("adapters.oracle.adapter",), "Oracle through oracledb (thin)",
                  sar=SarApp(
                      headline="Amazon Athena Federated Query connector for Oracle (athena-federation-py, Python, "
                               "oracledb thin driver).",
                      about="Query Oracle from Amazon Athena: filter, LIMIT and top-N pushdown through bind "
                            "parameters, exact DECIMAL and TIMESTAMP types, parallel reads by partition or ROWID "
                            "range, encrypted spill.",
                      connection_form="oracle://jdbc:oracle:thin:${secret}@//host:port/service")),
    docs="docs/oracle.md",
)
