"""Identity-aware access: which schemas, tables, columns and rows the caller Athena names may see."""
