"""The local Athena: Athena's side of the federation protocol, on a laptop.

``afq query`` parses Athena (Trino) SQL, plays Athena's calls against each table's connector - in this process,
under the real Lambda runtime client (``runtime_api``), or a deployed function - and computes the result with
DuckDB. Modules: ``strict_sql`` (Athena's parser strictness), ``planner`` (SQL -> per-table constraints and the
engine's query), ``trino_semantics`` (the engine's query rewritten so DuckDB answers as Athena does), ``domains`` and
``expressions`` (predicates -> value sets and standard-function expressions), ``session`` (the protocol calls),
``engine`` (orchestration: ``run`` reads whole, ``stream`` batch by batch for exports), ``explain``, ``verify``,
``validate``, ``output`` (table, CSV, JSON lines, Parquet through Arrow's writers), ``progress``, ``errors``
(one-line, Athena-style messages), ``targets``, ``runtime_api``, ``trace`` (``afq trace show``, ``--replay``).
None of it is in a Lambda bundle.
"""
