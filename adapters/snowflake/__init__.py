"""The Snowflake adapter: adapter, dialect, connection strings and keys, result batches as splits."""
