"""Oracle connection strings as users write them for the Java connector, mapped to python-oracledb thin mode.

Accepted after ``oracle://jdbc:oracle:thin:``::

    ${secret}@//host:1521/service        EZConnect (the secret holds username and password)
    ${secret}@host:1521/service          EZConnect without the slashes
    ${secret}@host:1521:SID              the old SID form (EZConnect has no SID syntax; mapped to sid=)
    ${secret}@tcps://host:2484/service   TLS, with the server certificate's DN matched against the host
    ${secret}@(DESCRIPTION=...)          a full connect descriptor (TLS when it says PROTOCOL=TCPS)
    user/password@...                    inline credentials; user/"p@ss/word"@... quotes a password
    ${secret}@alias                      a tnsnames.ora alias (needs TNS_ADMIN)

Parsing happens once, without a network call, so a malformed string fails at the first request with a message
that names the problem. Passwords never appear in ``repr``, messages or logs.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connector.connection import SECRET_PLACEHOLDER
from connector.errors import AccessDenied, ConfigurationError, ConnectorError, SourceError, SourceTimeout, first_line
from connector.redact import scrub

PREFIX = "jdbc:oracle:thin:"
DEFAULT_PORT = 1521
_SID_FORM = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?@()\s]+):(?P<port>\d+):(?P<sid>[A-Za-z0-9_$#.]+)$")
_EZCONNECT = re.compile(r"^(?:(?P<protocol>tcps?)://|//)?(?P<rest>[^()\s]+)$", re.IGNORECASE)
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_.$#-]*$")
# Secret extras that map straight to oracledb connect parameters (TLS and wallet settings).
SECRET_CONNECT_EXTRAS = ("wallet_location", "wallet_password", "ssl_server_cert_dn")


@dataclass(frozen=True)
class OracleUrl:
    """A parsed ``jdbc:oracle:thin:`` URL: who connects (secret or inline user) and where to."""

    target: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    secret: str | None = None
    sid: tuple[str, int, str] | None = None  # (host, port, SID) for the host:port:SID form

    @property
    def uses_tls(self) -> bool:
        lowered = self.target.lower()
        return lowered.startswith("tcps://") or bool(re.search(r"protocol\s*=\s*tcps", lowered))

    def describe(self) -> str:
        """Where this connects to, for messages (never the password)."""
        if self.sid is not None:
            host, port, sid = self.sid
            return f"{host}:{port} (SID {sid})"
        return self.target if len(self.target) <= 200 else self.target[:200] + "..."


def parse_oracle_url(url: str) -> OracleUrl:
    if not url.lower().startswith(PREFIX):
        raise ConfigurationError(
            "an Oracle connection string looks like oracle://jdbc:oracle:thin:${secret}@//host:1521/service "
            "(or @host:1521:SID, @tcps://host:2484/service, @(DESCRIPTION=...))")
    rest = url[len(PREFIX):].strip()
    user = password = secret = None
    if rest.startswith("${"):
        match = SECRET_PLACEHOLDER.match(rest)
        if match is None or not rest[match.end():].startswith("@"):
            raise ConfigurationError("after jdbc:oracle:thin: write ${secret-name}@ followed by the database address")
        secret, target = match.group(1), rest[match.end() + 1:]
    elif rest.startswith("@"):
        target = rest[1:]
    else:
        user, password, target = _inline_credentials(rest)
    target = target.strip()
    if not target:
        raise ConfigurationError("the Oracle connection string names no database after '@'")
    sid_match = _SID_FORM.match(target)
    sid = None
    if sid_match:
        sid = (sid_match.group("host").strip("[]"), int(sid_match.group("port")), sid_match.group("sid"))
    elif not (target.startswith("(") or _EZCONNECT.match(target) or _ALIAS.match(target)):
        raise ConfigurationError(f"cannot read the Oracle address {target[:80]!r}: use //host:port/service, "
                                 f"host:port:SID, tcps://host:port/service or (DESCRIPTION=...)")
    if target.startswith("(") and target.count("(") != target.count(")"):
        raise ConfigurationError("the Oracle connect descriptor has unbalanced parentheses")
    return OracleUrl(target, user or None, password, secret, sid)


def _inline_credentials(rest: str) -> tuple[str, str | None, str]:
    """``user/password@target``, ``user/"quoted password"@target`` or ``user@target``."""
    slash, at = rest.find("/"), rest.find("@")
    if at < 0:
        raise ConfigurationError("the Oracle connection string has no '@' before the database address")
    if slash < 0 or slash > at:
        return rest[:at], None, rest[at + 1:]
    user, after = rest[:slash], rest[slash + 1:]
    if after.startswith('"'):
        end = after.find('"', 1)
        if end < 0 or not after[end + 1:].startswith("@"):
            raise ConfigurationError('a quoted password must be closed: user/"password"@host...')
        return user, after[1:end], after[end + 2:]
    at = after.find("@")
    if at < 0:
        raise ConfigurationError("the Oracle connection string has no '@' before the database address")
    return user, after[:at], after[at + 1:]


def connect_params(url: OracleUrl, timeout: float) -> Any:
    """An ``oracledb.ConnectParams`` for the address (no credentials yet): parsed locally, no network.
    ``timeout`` bounds the TCP connect (``oracle_connect_timeout``)."""
    import oracledb

    params = oracledb.ConnectParams(tcp_connect_timeout=timeout, retry_count=0)
    try:
        if url.sid is not None:
            host, port, sid = url.sid
            params.set(host=host, port=port, sid=sid)
        else:
            params.parse_connect_string(url.target)
    except oracledb.Error as e:
        raise ConfigurationError(f"cannot read the Oracle address {url.describe()!r}: {first_line(e, 300)}") from None
    if url.uses_tls:
        # Thin mode verifies the certificate against the system CAs (or wallet_location) and, with this, the
        # server's DN against the host name (or ssl_server_cert_dn).
        params.set(ssl_server_dn_match=True)
    return params


def error_code(error: BaseException) -> str:
    """``ORA-01017`` / ``DPY-6005`` from an oracledb error, or ''."""
    args = getattr(error, "args", ())
    full_code = getattr(args[0], "full_code", None) if args else None
    if isinstance(full_code, str) and full_code:
        return full_code
    match = re.match(r"\s*((?:ORA|DPY|DPI|TNS)-\d+)", str(error))
    return match.group(1) if match else ""


_ORA_MESSAGES = {
    "ORA-01017": "invalid username or password",
    "ORA-28000": "the account is locked",
    "ORA-28001": "the password has expired",
    "ORA-12514": "the listener does not know the service name",
    "ORA-12505": "the listener does not know the SID",
    "ORA-12541": "no listener at that address",
    "ORA-01031": "insufficient privileges",
    "ORA-00942": "table or view does not exist (or no SELECT privilege on it)",
    "ORA-01013": "the statement was cancelled",
}


def connection_error(error: BaseException, url: OracleUrl, user: str | None) -> ConnectorError:
    """A connect failure as a message the Athena user can act on (which database, which user, what failed)."""
    code = error_code(error)
    where = url.describe()
    who = f" as {user!r}" if user else ""
    if code in ("ORA-01017", "ORA-28000", "ORA-28001", "ORA-01045"):
        reason = _ORA_MESSAGES.get(code, "login refused")
        return AccessDenied(f"Oracle at {where} refused the login{who}: {code} {reason}; check the secret's "
                            f"username and password")
    if code in ("ORA-12514", "ORA-12505"):
        return ConfigurationError(f"Oracle at {where}: {code} {_ORA_MESSAGES[code]}; check the connection string")
    if "DPY-3010" in str(error):  # raised inside DPY-6005 when the listener accepts with a pre-12.1 protocol
        return ConfigurationError(f"Oracle at {where} is a version this connector cannot reach: python-oracledb "
                                  f"thin mode connects to Oracle Database 12.1 and later only (DPY-3010); "
                                  f"upgrade the database or query it through another connector")
    if code in ("DPY-6005", "DPY-6000", "DPY-4011", "ORA-12541", "ORA-12170"):
        detail = _cause(error)
        kind = SourceTimeout if "timed out" in detail.lower() else SourceError
        return kind(f"cannot connect to Oracle at {where}{who}: {code} {detail}")
    if code == "DPY-3001" or "thick mode" in str(error).lower():
        return ConfigurationError(f"Oracle at {where} needs a feature python-oracledb thin mode does not support "
                                  f"({code or 'thin mode'}): {first_line(error, 300)}")
    return SourceError(f"cannot connect to Oracle at {where}{who}: "
                       f"{scrub(first_line(error, limit=None), (url.password,))[:300]}")


def _cause(error: BaseException) -> str:
    """DPY-6005 carries the socket error in its message ('...(CONNECTION_ID=...)\n[Errno 111] ...')."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    first = re.sub(r"^(?:DPY|ORA)-\d+:\s*", "", lines[0]) if lines else ""
    first = re.sub(r"\s*\(CONNECTION_ID=[^)]*\)\.?", "", first)
    extra = [line for line in lines[1:] if not line.startswith("Help:")]
    detail = f"{first} ({'; '.join(extra)})" if extra else first
    return detail[:400]


def connect_within(connect: Callable[[], Any], seconds: float, where: str) -> Any:
    """``connect()`` with a deadline for the whole login, not only the TCP connect.

    python-oracledb's ``tcp_connect_timeout`` covers the socket connect; a listener that accepts and then says
    nothing would hold the login forever (the driver has no login timeout). The login runs in a daemon thread;
    past the deadline the caller gets a timeout error, and a connection that arrives later is closed.
    """
    lock = threading.Lock()
    state: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            connection = connect()
        except BaseException as e:  # handed to the waiting caller
            with lock:
                state["error"] = e
        else:
            with lock:
                if state.get("abandoned"):
                    _close_quietly(connection)
                else:
                    state["connection"] = connection
        finally:
            done.set()

    threading.Thread(target=work, name="oracle-connect", daemon=True).start()
    done.wait(seconds)
    with lock:
        if "connection" in state:
            return state["connection"]
        if "error" in state:
            raise state["error"]
        state["abandoned"] = True
    raise SourceTimeout(f"Oracle at {where} accepted the connection but did not complete the login within "
                        f"{seconds:g} s (oracle_connect_timeout); is this an Oracle listener?")


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # a late connection nobody waits for: nothing to report
        return
