"""Open a SQLite database so that no statement - query passthrough included - can write anywhere or leave state
behind on a pooled connection.

``mode=ro`` keeps the main database read-only but not the rest of the process's reach: ``ATTACH
'file:/tmp/x?mode=rwc'`` creates files (even with ``query_only``) and stays attached to the pooled connection,
``VACUUM INTO '/path'`` writes a copy of the database anywhere the Lambda may write, a ``PRAGMA`` changes how
later queries on the same connection behave, a ``BEGIN`` holds a read transaction open. So each connection gets
``PRAGMA query_only = ON`` (no CREATE, INSERT, UPDATE, DELETE, DROP, temp tables included) and an authorizer
that refuses ATTACH and DETACH (``VACUUM INTO`` attaches its target, so it is refused too), transactions and
savepoints, every PRAGMA except the informational ones the adapter's catalog queries read, and functions that
reach outside the database (``load_extension``, ``fts3_tokenizer``).
"""

from __future__ import annotations

import sqlite3

#: Pragmas that only report (the catalog queries use table_info and database_list as table-valued functions).
_INFORMATIONAL_PRAGMAS = frozenset({
    "table_info", "table_xinfo", "table_list", "database_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "collation_list", "function_list", "module_list", "pragma_list", "compile_options",
})
#: Pragmas that may be read (not set): the guard's own setting, so a test or an operator can see it holds.
_READABLE_PRAGMAS = frozenset({"query_only", "user_version", "schema_version", "encoding", "page_size"})
_REFUSED_ACTIONS = frozenset({
    sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH, sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT,
    sqlite3.SQLITE_INSERT, sqlite3.SQLITE_DELETE, sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_REINDEX,
    sqlite3.SQLITE_ANALYZE, sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE,
    sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_TEMP_INDEX,
    sqlite3.SQLITE_CREATE_TEMP_TABLE, sqlite3.SQLITE_CREATE_TEMP_TRIGGER, sqlite3.SQLITE_CREATE_TEMP_VIEW,
    sqlite3.SQLITE_CREATE_TRIGGER, sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_DROP_INDEX, sqlite3.SQLITE_DROP_TABLE,
    sqlite3.SQLITE_DROP_TEMP_INDEX, sqlite3.SQLITE_DROP_TEMP_TABLE, sqlite3.SQLITE_DROP_TEMP_TRIGGER,
    sqlite3.SQLITE_DROP_TEMP_VIEW, sqlite3.SQLITE_DROP_TRIGGER, sqlite3.SQLITE_DROP_VIEW,
})
_REFUSED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer"})


def _authorize(action: int, arg1: str | None, arg2: str | None, database: str | None, trigger: str | None) -> int:
    if action in _REFUSED_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in _INFORMATIONAL_PRAGMAS or (name in _READABLE_PRAGMAS and arg2 is None):
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def open_read_only(path: str) -> sqlite3.Connection:
    """A connection to ``path`` that can only read it (raises ``sqlite3.Error`` if the file cannot be opened)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(_authorize)
    except BaseException:
        connection.close()
        raise
    return connection
