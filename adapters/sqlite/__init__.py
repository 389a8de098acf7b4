"""The embedded SQLite adapter: adapter, dialect (types, affinity), connection strings, the read-only guard."""
