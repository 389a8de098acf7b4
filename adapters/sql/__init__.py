"""Shared machinery for databases reached over DB-API: the ``SqlAdapter`` base, the ``SourceDialect`` base with
its type map, type maps, value conversion, key-range splits."""
