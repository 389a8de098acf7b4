"""The Teradata adapter (teradatasql): adapter, dialect, connection strings and driver errors, splits."""
