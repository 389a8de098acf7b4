"""The Oracle adapter (python-oracledb thin mode): adapter, dialect, connection strings and driver errors."""
