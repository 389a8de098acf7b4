"""TPC-DS through the local Athena: the 99 queries over SQLite and PostgreSQL, compared with DuckDB.

``generate`` (run in its own venv) writes the data, queries and DuckDB's answers once; ``data`` loads them into
the sources; ``queries`` turns each query into the Athena SQL a user would write; ``compare`` decides whether an
answer is exact; ``run`` ties them together (``python -m bench.tpcds.run``, ``make tpcds``).
"""
