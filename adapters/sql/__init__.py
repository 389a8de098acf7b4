"""Shared machinery for databases reached over DB-API: the ``SqlAdapter`` base, type maps, value conversion,
key-range splits."""
