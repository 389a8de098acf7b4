"""Adapters: one package per data source. ``sql`` is the shared base for databases reached over DB-API."""
