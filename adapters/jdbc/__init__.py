"""The generic JDBC adapter: adapter, per-database dialects, the JVM driver, the columnar Java helper."""
