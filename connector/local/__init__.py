"""The local Athena: Athena's side of the federation protocol, on a laptop.

``afq query`` parses Athena (Trino) SQL, plays Athena's calls against each table's connector - in this process,
under the real Lambda runtime client (``runtime_api``), or a deployed function - and computes the result with
DuckDB. Modules: ``planner`` (SQL -> per-table constraints and the engine's query), ``domains`` and
``expressions`` (predicates -> value sets and standard-function expressions), ``session`` (the protocol calls),
``engine`` (orchestration), ``explain``, ``verify``, ``validate``, ``output``, ``targets``, ``runtime_api``.
"""
