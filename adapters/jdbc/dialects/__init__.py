"""What databases behind JDBC evaluate exactly as Athena does: the generic dialect, PostgreSQL and H2."""
