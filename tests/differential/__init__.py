"""Differential testing against the real engines, SQLancer-style.

Random schemas shaped like users' real ones (``schemas``: untyped and mixed-storage SQLite columns, every
collation each engine offers, wide and negative-scale decimals, NaN, -0.0, empty strings, trailing blanks,
unicode, dates around the epoch and in far years) and random Athena queries over them (``queries``: filters
with NOT / LIKE / IN / BETWEEN / IS DISTINCT FROM, the protocol's pushed functions, ORDER BY + LIMIT,
aggregates, joins across catalogs). Each query runs through the local Athena (``afq query``, in process) and,
translated with the engine's own semantics in mind (``render``), on the engine directly; the answers must be
the same (``check``). Metamorphic checks need no oracle at all: a query's rows are the rows where P, plus where
NOT P, plus where P IS NULL; and pushdown on gives what pushdown off gives.

The engine is the oracle: where Athena's semantics differ from the engine's (collations, NaN, CHAR padding,
SQLite's storage classes), the engine query is written to compute what Athena computes on the values the
connector exposes - ``COLLATE BINARY``, ``COLLATE "C"``, comparisons of UTF-8 bytes, NaN handled in CASE -
never by re-using the connector's own code.
"""
