"""The Snowflake engine, declared for the registry, packaging and docs (imports nothing heavy)."""

from __future__ import annotations

from adapters.sql.settings import CASING_MODE
from connector.engines import Bundle, EngineDeclaration, SarApp, Setting

ENGINE = EngineDeclaration(
    name="snowflake",
    adapter="adapters.snowflake.adapter:SnowflakeAdapter",
    source_type="snowflake",
    summary="Snowflake through snowflake-connector-python, result batches as parallel splits",
    example="snowflake://jdbc:snowflake://acct.snowflakecomputing.com/?db=DB&warehouse=WH&${snowflake/athena}",
    settings=(
        CASING_MODE,
        Setting("snowflake_split_mode", str, "auto", "auto, batches (one query, its result chunks as splits) or "
                "single (one split per table)", choices=("auto", "batches", "single")),
        Setting("snowflake_single_split_bytes", int, 64 << 20, "auto mode: tables smaller than this are one split",
                low=1),
        Setting("snowflake_split_bytes", int, 128 << 20, "result chunk bytes per split", low=1),
        Setting("snowflake_split_rows", int, 4_000_000, "result chunk rows per split", low=1),
        Setting("snowflake_max_splits", int, 1000, "most splits one query is cut into", low=1),
        Setting("snowflake_session_check_seconds", int, 600, "how long an idle connection is trusted before it is "
                "checked (0: always)", low=0, high=86_400),
    ),
    requirements=("snowflake-connector-python>=3.12",),
    bundle=Bundle("snowflake", ("aws", "snowflake"), ("adapters.snowflake.adapter",),
                  "Snowflake through snowflake-connector-python",
                  sar=SarApp(
                      headline="Amazon Athena Federated Query connector for Snowflake (athena-federation-py, "
                               "Python, snowflake-connector-python).",
                      about="Query Snowflake from Amazon Athena: filter, LIMIT and top-N pushdown through bind "
                            "parameters, exact DECIMAL and TIMESTAMP types, parallel reads of Snowflake's own "
                            "result batches, encrypted spill.",
                      connection_form="snowflake://jdbc:snowflake://account.snowflakecomputing.com/"
                                      "?warehouse=...&${secret}",
                      secret_json='{"username": "...", "password": "..."} or a key pair ({"username": "...", '
                                  '"pem_private_key": "..."})',
                      vpc_help="Snowflake is reached over the internet, so a VPC needs a NAT gateway.")),
    docs="docs/snowflake.md",
)
