"""SQLite connection strings: the JDBC form ``jdbc:sqlite:/abs/path.db``."""

from __future__ import annotations

from connector.errors import ConfigurationError


def parse_sqlite_url(url: str) -> str:
    """``jdbc:sqlite:/abs/path.db`` (the JDBC form) -> ``/abs/path.db``."""
    prefix = "jdbc:sqlite:"
    if not url.startswith(prefix):
        raise ConfigurationError(
            "a SQLite connection string looks like sqlite://jdbc:sqlite:/absolute/path/to/file.db")
    path = url[len(prefix):]
    if path.startswith("//"):
        path = path[1:]
    if not path.startswith("/"):
        raise ConfigurationError(f"the SQLite database path must be absolute, got {path!r}")
    if "?" in path or "#" in path:
        raise ConfigurationError("the SQLite database path must not contain '?' or '#'")
    return path
