"""Teradata through teradatasql: ``teradata://jdbc:teradata://host/TMODE=ANSI,DATABASE=db,${secret}``.

What this adapter does differently from the Java reference connector, and why:

* **Types from the dictionary.** Column types come from ``DBC.ColumnsVX`` type codes with their precision and
  scale, so DECIMAL(p,s) is always decimal(p,s) (never bigint) and TIMESTAMP is a timestamp, not text.
  TIMESTAMP(n > 3) values are floored to Athena's milliseconds; CHAR(n) values lose their pad blanks (Teradata
  itself ignores them in comparisons, and a UTF8 session adds extra "export width" padding).
* **Splits without scanning.** The plan comes from the dictionary only: row-partition ranges for PPI tables
  (``PARTITION BETWEEN a AND b`` - partition elimination), otherwise hash buckets of the primary index
  (``HASHBUCKET(HASHROW(pi)) MOD n = k``), for NoPI tables hash buckets of all hashable columns, and one split
  for views. Never ``SELECT DISTINCT PARTITION``.
* **Exact pushdown.** Only what Teradata evaluates exactly as Athena is pushed; the framework applies the rest.
  Strings: Teradata compares with pad semantics (``'a' = 'a '``) and, for NOT CASESPECIFIC columns (the
  default in TERA mode), case-insensitively - so no string comparison is exact in any mode. Positive string
  filters (``=``, ``IN``) are pushed as a *prefilter* - a superset of the exact answer - and re-checked exactly
  by the framework; ordering, LIKE and negations on strings stay in the framework. TIMESTAMP ranges are
  rewritten on the millisecond grid (``floor_ms(ts) <= v`` is ``ts < v + 1ms``), so they are exact for any
  fractional precision. Limits become ``TOP n``; null ordering is a CASE key (Teradata has no NULLS
  FIRST/LAST in older releases and sqlglot drops it silently); OFFSET is never generated.

Values are always bind parameters (``?``) except split bounds, which are integers this module computed and
validated (literals let Teradata eliminate partitions). Passwords never reach logs, reprs or error messages.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from adapters.convert import to_arrow
from adapters.sql import CasingMode, SourceTable, SqlAdapter
from adapters.types import MAX_PRECISION, TIMESTAMP, TIMESTAMP_TZ, VARCHAR, ColumnInfo, TypeMap, decimal, normalize
from connector.adapter import RequestContext
from connector.config import Settings
from connector.connection import SECRET_PLACEHOLDER, ConnectionSpec
from connector.credentials import credentials_for
from connector.errors import (
    AccessDenied,
    ConfigurationError,
    ConnectorError,
    InvalidRequest,
    SchemaNotFound,
    SecretError,
    SourceError,
    SourceTimeout,
    TableNotFound,
)
from connector.protocol.constraints import (
    AllOrNoneValueSet,
    Bound,
    Constant,
    Constraints,
    EquatableValueSet,
    Expression,
    FunctionCall,
    OrderByField,
    SortedRangeSet,
    ValueSet,
    Variable,
)
from connector.protocol.messages import Split, TableName
from connector.pushdown.sql import SourceColumn, SourceQuery, SqlCompiler, SqlDialect, plan_select

log = logging.getLogger("afq.teradata")

URL_PREFIX = "jdbc:teradata://"
DEFAULT_PORT = 1025
SOURCE_TYPE_KEY = b"afq.source_type"
#: Athena's TIMESTAMP resolution; Teradata keeps up to microseconds.
MILLISECOND = dt.timedelta(milliseconds=1)
#: Largest ``TOP n`` generated; a larger LIMIT (or LIMIT 0) is applied by the framework.
MAX_TOP = 2**31 - 1
#: Parameters per request before big value lists are left to the framework (Teradata caps USING fields).
MAX_PARAMETERS = 2000
DEFAULT_SPLITS = 4
MAX_SPLITS = 1024


# ============================================================================================ connection string


def _text(value: str) -> str:
    return value


def _upper(value: str) -> str:
    return value.strip().upper()


def _boolean(value: str) -> str:
    text = value.strip().lower()
    if text in ("true", "on", "yes", "1"):
        return "true"
    if text in ("false", "off", "no", "0"):
        return "false"
    raise ValueError("must be true/false (or ON/OFF)")


def _whole(value: str) -> str:
    text = value.strip()
    if not re.fullmatch(r"\d+", text):
        raise ValueError("must be a whole number")
    return str(int(text))


def _port(value: str) -> str:
    text = _whole(value)
    if not 1 <= int(text) <= 65535:
        raise ValueError("must be a port number between 1 and 65535")
    return text


def _one_of(*options: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        text = value.strip().upper()
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return text
    return check


@dataclass(frozen=True, slots=True)
class Parameter:
    """A connection parameter: its teradatasql name, how its value is checked, whether it is secret."""

    driver_name: str
    convert: Callable[[str], str] = _text
    secret: bool = False


#: Connection-string parameters (JDBC names, matched case-insensitively) and the teradatasql parameters they
#: become. Every name here is accepted by teradatasql 20 (tests/test_teradata_url.py asks the real driver).
#: Anything else is rejected: teradatasql fails on unknown names, and another connector's properties must
#: never leak into a Teradata logon (the Java connector's issue #723).
PARAMETERS: dict[str, Parameter] = {
    "account": Parameter("account"),
    "charset": Parameter("charset", _upper),
    "connect_failure_ttl": Parameter("connect_failure_ttl", _whole),
    "connect_timeout": Parameter("connect_timeout", _whole),
    "cop": Parameter("cop", _boolean),
    "coplast": Parameter("coplast", _boolean),
    "database": Parameter("database"),
    "dbs_port": Parameter("dbs_port", _port),
    "encryptdata": Parameter("encryptdata", _boolean),
    "http_proxy": Parameter("http_proxy"),
    "http_proxy_password": Parameter("http_proxy_password", secret=True),
    "http_proxy_user": Parameter("http_proxy_user"),
    "https_port": Parameter("https_port", _port),
    "https_proxy": Parameter("https_proxy"),
    "https_proxy_password": Parameter("https_proxy_password", secret=True),
    "https_proxy_user": Parameter("https_proxy_user"),
    "logdata": Parameter("logdata", secret=True),
    "logmech": Parameter("logmech", _upper),
    "logon_timeout": Parameter("logon_timeout", _whole),
    "max_message_body": Parameter("max_message_body", _whole),
    "oidc_clientid": Parameter("oidc_clientid"),
    "oidc_scope": Parameter("oidc_scope"),
    "oidc_sslmode": Parameter("oidc_sslmode", _upper),
    "oidc_token": Parameter("oidc_token"),
    "password": Parameter("password", secret=True),
    "proxy_bypass_hosts": Parameter("proxy_bypass_hosts"),
    "request_timeout": Parameter("request_timeout", _whole),
    "runstartup": Parameter("runstartup", _boolean),
    "sip_support": Parameter("sip_support", _boolean),
    "sslca": Parameter("sslca"),
    "sslcapath": Parameter("sslcapath"),
    "sslcipher": Parameter("sslcipher"),
    "sslcrc": Parameter("sslcrc", _upper),
    "sslcrl": Parameter("sslcrl", _boolean),
    "sslmode": Parameter("sslmode", _upper),
    "sslocsp": Parameter("sslocsp", _boolean),
    "sslprotocol": Parameter("sslprotocol"),
    "tmode": Parameter("tmode", _one_of("ANSI", "TERA", "DEFAULT")),
    "user": Parameter("user"),
}

_HOST = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9_.\-]+))(?::(?P<port>\d+))?$")


@dataclass(frozen=True)
class TeradataUrl:
    """A parsed ``jdbc:teradata://`` URL: host and teradatasql parameters. Secrets never show in ``repr``."""

    host: str
    parameters: Mapping[str, str] = field(repr=False)
    #: the URL separated parameters with ``&`` (the 2021 blog form) instead of Teradata's commas
    legacy_ampersands: bool = False

    def __repr__(self) -> str:
        shown = {k: ("***" if PARAMETERS[k].secret else v) for k, v in sorted(self.parameters.items())}
        return f"TeradataUrl(host={self.host!r}, parameters={shown})"

    @property
    def secret_values(self) -> tuple[str, ...]:
        return tuple(v for k, v in self.parameters.items() if PARAMETERS[k].secret and v)


def parse_teradata_url(url: str) -> TeradataUrl:
    """``jdbc:teradata://host[:port]/NAME=value,NAME=value,${secret}`` -> host and teradatasql parameters.

    Teradata separates parameters with commas; values may be single-quoted (``''`` for a quote) to hold
    commas. The Trianz blog form ``/user=u&password=p`` is read as intended - ``&`` separates parameters when
    a known parameter name follows it - whereas the Teradata JDBC driver would have made ``u&password=p``
    the user name. ``${secret}`` placeholders (and the separator before them) are removed here; the
    credentials they name are resolved at connect time.
    """
    text = url.strip()
    if not text.lower().startswith(URL_PREFIX):
        raise ConfigurationError(
            "a Teradata connection string looks like teradata://jdbc:teradata://<host>/TMODE=ANSI,"
            "DATABASE=<db>,${<secret>}; the part after teradata:// must start with jdbc:teradata://")
    rest = text[len(URL_PREFIX):]
    host_part, _, parameter_text = rest.partition("/")
    match = _HOST.match(host_part.strip())
    if not match:
        raise ConfigurationError(f"the Teradata host {host_part.strip()[:80]!r} is not a host name, IPv4 or "
                                 f"[IPv6] address (optionally :port)")
    host = match.group("v6") or match.group("name")
    without_secrets = re.sub(r"[,&]?\s*" + SECRET_PLACEHOLDER.pattern, "", parameter_text)
    if "${" in without_secrets:
        raise ConfigurationError("the Teradata connection string has a malformed ${...} secret placeholder; "
                                 "secret names may use letters, digits and /_+=.@!:-")
    pairs, legacy = _split_parameters(without_secrets)
    parameters: dict[str, str] = {}
    previous = ""
    for name, value in pairs:
        key = name.strip().lower()
        spec = PARAMETERS.get(key)
        if spec is None:
            known = ", ".join(n.upper() for n in sorted(PARAMETERS))
            after_secret = previous in PARAMETERS and PARAMETERS[previous].secret
            shown = f"after {previous.upper()} (quote values that contain commas)" if after_secret else repr(
                name.strip()[:60])
            raise ConfigurationError(f"unknown Teradata connection parameter {shown}; known parameters "
                                     f"(case-insensitive): {known}")
        previous = key
        if key in parameters:
            raise ConfigurationError(f"Teradata connection parameter {key.upper()} is given twice")
        try:
            parameters[key] = spec.convert(value)
        except ValueError as e:
            shown = "" if spec.secret else f"={value.strip()[:40]!r}"
            raise ConfigurationError(f"Teradata connection parameter {key.upper()}{shown} {e}") from None
    port = match.group("port")
    if port is not None:
        port = _port(port)
        if parameters.get("dbs_port", port) != port:
            raise ConfigurationError(f"the Teradata port is given twice: {host_part.strip()!r} and "
                                     f"DBS_PORT={parameters['dbs_port']}")
        parameters["dbs_port"] = port
    if legacy:
        log.warning("the Teradata connection string separates parameters with '&'; Teradata uses commas "
                    "(e.g. /USER=u,PASSWORD=p) - read as separate parameters")
    return TeradataUrl(host, parameters, legacy)


_AMPERSAND_PARAMETER = re.compile(r"&\s*(?:" + "|".join(sorted(PARAMETERS, key=len, reverse=True)) + r")\s*=",
                                  re.IGNORECASE)


def _split_parameters(text: str) -> tuple[list[tuple[str, str]], bool]:
    """``A=1,B='x,y'`` -> [(A, 1), (B, x,y)]. Outside quotes, ``&`` also separates when a known parameter
    name follows it (the blog form)."""
    segments: list[str] = []
    current: list[str] = []
    quoted = False
    legacy = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "'" and text[i + 1 : i + 2] == "'":
                current.append("'")
                i += 2
                continue
            if ch == "'":
                quoted = False
            else:
                current.append(ch)
        elif ch == "'" and "".join(current).strip().endswith("=") and "".join(current).count("=") == 1:
            quoted = True
        elif ch == "," or (ch == "&" and _AMPERSAND_PARAMETER.match(text, i)):
            legacy = legacy or ch == "&"
            segments.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if quoted:
        raise ConfigurationError("a quoted Teradata connection parameter value has no closing quote")
    segments.append("".join(current))
    pairs: list[tuple[str, str]] = []
    previous = ""
    for segment in segments:
        if not segment.strip():
            continue
        name, equals, value = segment.partition("=")
        if not equals or not name.strip():
            if previous in PARAMETERS and PARAMETERS[previous].secret:
                raise ConfigurationError(f"the Teradata connection string has text after {previous.upper()} that "
                                         f"is not NAME=value; quote values that contain commas, e.g. "
                                         f"{previous.upper()}='a,b'")
            raise ConfigurationError(f"Teradata connection parameter {segment.strip()[:40]!r} must look like "
                                     f"NAME=value")
        pairs.append((name, value))
        previous = name.strip().lower()
    return pairs, legacy


# ============================================================================================ types

#: DBC ``ColumnType`` codes (also HELP COLUMN's ``Type``) -> Teradata type names.
TYPE_CODES: dict[str, str] = {
    "I1": "BYTEINT", "I2": "SMALLINT", "I": "INTEGER", "I8": "BIGINT",
    "D": "DECIMAL", "N": "NUMBER", "F": "FLOAT",
    "CF": "CHAR", "CV": "VARCHAR", "CO": "CLOB", "GF": "GRAPHIC", "GV": "VARGRAPHIC",
    "BF": "BYTE", "BV": "VARBYTE", "BO": "BLOB",
    "DA": "DATE", "AT": "TIME", "TZ": "TIME WITH TIME ZONE", "TS": "TIMESTAMP", "SZ": "TIMESTAMP WITH TIME ZONE",
    "YR": "INTERVAL YEAR", "YM": "INTERVAL YEAR TO MONTH", "MO": "INTERVAL MONTH", "DY": "INTERVAL DAY",
    "DH": "INTERVAL DAY TO HOUR", "DM": "INTERVAL DAY TO MINUTE", "DS": "INTERVAL DAY TO SECOND",
    "HR": "INTERVAL HOUR", "HM": "INTERVAL HOUR TO MINUTE", "HS": "INTERVAL HOUR TO SECOND",
    "MI": "INTERVAL MINUTE", "MS": "INTERVAL MINUTE TO SECOND", "SC": "INTERVAL SECOND",
    "PD": "PERIOD(DATE)", "PT": "PERIOD(TIME)", "PZ": "PERIOD(TIME WITH TIME ZONE)",
    "PS": "PERIOD(TIMESTAMP)", "PM": "PERIOD(TIMESTAMP WITH TIME ZONE)",
    "JN": "JSON", "XM": "XML", "A1": "ARRAY", "AN": "ARRAY", "UT": "UDT", "DT": "DATASET",
}
_CHARACTER = frozenset({"CHAR", "VARCHAR", "GRAPHIC", "VARGRAPHIC", "CHARACTER", "LONG VARCHAR"})
_FIXED_CHARACTER = frozenset({"CHAR", "GRAPHIC", "CHARACTER"})
#: Types HASHROW takes (LOBs, PERIOD, JSON, XML, ARRAY and UDTs are not hashed).
_HASHABLE = frozenset({"BYTEINT", "SMALLINT", "INTEGER", "BIGINT", "DECIMAL", "NUMBER", "FLOAT", "CHAR",
                       "VARCHAR", "GRAPHIC", "VARGRAPHIC", "BYTE", "VARBYTE", "DATE", "TIME", "TIME WITH TIME ZONE",
                       "TIMESTAMP", "TIMESTAMP WITH TIME ZONE",
                       *(name for name in TYPE_CODES.values() if name.startswith("INTERVAL"))})


def _number(c: ColumnInfo) -> pa.DataType:
    """NUMBER(p,s) is decimal(p,s); NUMBER / NUMBER(*) (reported with p outside 1..38) is decimal(38,s|10)."""
    p, s = c.precision, c.scale
    if p is not None and 1 <= p <= MAX_PRECISION and s is not None and 0 <= s <= p:
        return decimal(p, s)
    return pa.decimal128(MAX_PRECISION, s if s is not None and 0 <= s <= MAX_PRECISION else 10)


def _decimal(c: ColumnInfo) -> pa.DataType:
    """DECIMAL/NUMERIC(p,s) -> decimal(p,s) for every p and s (DECIMAL(10,2) stays decimal(10,2))."""
    if c.precision is None or c.precision <= 0:
        return pa.decimal128(MAX_PRECISION, 10 if c.scale is None or c.scale < 0 else min(c.scale, MAX_PRECISION))
    return decimal(c.precision, max(0, c.scale or 0))


TERADATA_TYPES = TypeMap({
    "BYTEINT": pa.int8(), "SMALLINT": pa.int16(), "INTEGER": pa.int32(), "INT": pa.int32(), "BIGINT": pa.int64(),
    "DECIMAL": _decimal, "NUMERIC": _decimal, "NUMBER": _number,
    # FLOAT, REAL and DOUBLE PRECISION are the same 8-byte IEEE type in Teradata.
    "FLOAT": pa.float64(), "REAL": pa.float64(), "DOUBLE PRECISION": pa.float64(), "DOUBLE": pa.float64(),
    "CHAR": VARCHAR, "CHARACTER": VARCHAR, "VARCHAR": VARCHAR, "LONG VARCHAR": VARCHAR, "CLOB": VARCHAR,
    "GRAPHIC": VARCHAR, "VARGRAPHIC": VARCHAR,
    "BYTE": pa.binary(), "VARBYTE": pa.binary(), "BLOB": pa.binary(),
    "DATE": pa.date32(),
    "TIMESTAMP": TIMESTAMP, "TIMESTAMP WITH TIME ZONE": TIMESTAMP_TZ,
    # Athena has no type for these: their Teradata text form.
    "TIME": VARCHAR, "TIME WITH TIME ZONE": VARCHAR, "PERIOD": VARCHAR, "JSON": VARCHAR, "XML": VARCHAR,
    "ARRAY": VARCHAR, "UDT": VARCHAR, "ST_GEOMETRY": VARCHAR, "MBR": VARCHAR, "DATASET": VARCHAR,
    **{name: VARCHAR for name in TYPE_CODES.values() if name.startswith("INTERVAL")},
}, source="teradata")


def type_name(code: str, length: int | None = None, total_digits: int | None = None,
              fractional_digits: int | None = None, char_type: int | None = None, udt_name: str | None = None) -> str:
    """A dictionary row's type as Teradata writes it: ``DECIMAL(10,2)``, ``TIMESTAMP(6) WITH TIME ZONE``..."""
    code = (code or "").strip().upper()
    base = TYPE_CODES.get(code)
    if base is None:
        return (udt_name or code or "UNKNOWN").strip().upper()
    if code == "UT" and udt_name:
        return udt_name.strip().upper()
    if code in ("D", "N") and total_digits is not None:
        return f"{base}({total_digits},{fractional_digits or 0})"
    if code in ("AT", "TZ", "TS", "SZ") and fractional_digits is not None:
        head, _, tail = base.partition(" ")
        return f"{head}({fractional_digits}){' ' + tail if tail else ''}"
    if code in ("CF", "CV") and length is not None:
        per_char = 2 if char_type in (2, 4) else 1  # UNICODE and GRAPHIC store 2 bytes per character
        return f"{base}({length // per_char})"
    if code in ("BF", "BV") and length is not None:
        return f"{base}({length})"
    return base


def _kind(source_type: str) -> str:
    """``TIMESTAMP(6) WITH TIME ZONE`` -> ``TIMESTAMP WITH TIME ZONE``; ``PERIOD(DATE)`` -> ``PERIOD``."""
    return normalize(source_type)


def _fraction(source_type: str) -> int | None:
    match = re.match(r"^\s*(?:TIME|TIMESTAMP)\s*\(\s*(\d+)\s*\)", source_type, re.IGNORECASE)
    return int(match.group(1)) if match else None


# ============================================================================================ dialect


def _is_string(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e.copy(), expression=exp.Null())


def _is_wall_clock(t: pa.DataType) -> bool:
    return bool(pa.types.is_timestamp(t) and t.tz is None)


class TeradataDialect(SqlDialect):
    """What Teradata evaluates exactly as Athena does (see the module docstring for strings and timestamps)."""

    sqlglot_dialect = "teradata"
    paramstyle = "qmark"
    exact_string_ordering = False
    supports_null_ordering = False
    division_by_zero_errors = True
    integer_division_truncates = True
    max_in_list = 1000

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        if _is_string(t):
            return False  # pad semantics and NOT CASESPECIFIC: prefiltered by the adapter, checked by the framework
        if pa.types.is_timestamp(t) and t.tz is not None:
            return False  # TIMESTAMP WITH TIME ZONE binding and ordering are left to the framework
        if pa.types.is_boolean(t):
            return False  # Teradata has no BOOLEAN
        return super().can_compare(t, ordering=ordering)

    def can_compute(self, function: str, result: pa.DataType, arguments: Sequence[pa.DataType]) -> bool:
        # Integer arithmetic only, in INTEGER or BIGINT: Teradata widens BYTEINT/SMALLINT results (Athena
        # would overflow), FLOAT division by zero is an error in Teradata (Athena: Infinity), and DECIMAL
        # result scales differ.
        if not (pa.types.is_int32(result) or pa.types.is_int64(result)):
            return False
        return all(pa.types.is_integer(a) for a in arguments) and super().can_compute(function, result, arguments)

    def can_like(self, t: pa.DataType) -> bool:
        return False  # LIKE follows the column's case specificity and pad rules: applied by the framework

    def is_distinct_from(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        # Teradata has no IS DISTINCT FROM. Each disjunct is TRUE or FALSE, never NULL, so the result is never
        # NULL either - NOT(...) stays correct. (The base form yields NULL when both sides are NULL.)
        both = exp.and_(exp.NEQ(this=a.copy(), expression=b.copy()), exp.not_(_null(a)), exp.not_(_null(b)))
        only_a = exp.and_(_null(a), exp.not_(_null(b)))
        only_b = exp.and_(exp.not_(_null(a)), _null(b))
        return exp.paren(exp.or_(exp.paren(both), exp.paren(only_a), exp.paren(only_b)))

    def order_key(self, column: exp.Expression, ascending: bool, nulls_first: bool) -> list[exp.Ordered]:
        # A CASE key places the NULLs; each key keeps Teradata's own null placement (NULLs sort low) so that
        # no NULLS FIRST/LAST clause is written, which older Teradata releases reject.
        null_rank = exp.Case(ifs=[exp.If(this=exp.Is(this=column.copy(), expression=exp.Null()),
                                         true=exp.Literal.number(0 if nulls_first else 1))],
                             default=exp.Literal.number(1 if nulls_first else 0))
        return [exp.Ordered(this=null_rank, desc=False, nulls_first=True),
                exp.Ordered(this=column, desc=not ascending, nulls_first=ascending)]

    def apply_limit(self, select: exp.Select, limit: int) -> exp.Select:
        return select.limit(limit)  # sqlglot writes TOP n for Teradata

    def bind_value(self, value: Any, t: pa.DataType) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value


# ============================================================================================ errors

_ERROR = re.compile(r"\[Error (\d+)\](?:\s*\[SQLState (\w+)\])?\s*(.*)")
_CONNECT_CODES = frozenset({301, 394, 444, 445, 446})
_PARAMETER_CODES = frozenset({169, 191, 557})
_LOGON_CODES = frozenset({8017, 8018, 8019, 8024, 8025, 8030})
_ACCESS_CODES = frozenset({3523, 3524, 5315})
_TIMEOUT_CODES = frozenset({3110, 2646})


def driver_errors(error: BaseException) -> list[tuple[int, str]]:
    """``[(code, text), ...]`` from a teradatasql message, outermost first; stack-trace lines dropped."""
    found: list[tuple[int, str]] = []
    for line in str(error).splitlines():
        match = _ERROR.search(line)
        if match:
            found.append((int(match.group(1)), match.group(3).strip()))
    return found


def _root_cause(error: BaseException) -> str:
    """The last ``Caused by`` line that is not itself a driver error (``dial tcp ...: connection refused``)."""
    causes = [line[len("Caused by "):].strip() for line in str(error).splitlines() if line.startswith("Caused by ")]
    plain = [c for c in causes if not _ERROR.search(c)]
    return plain[-1] if plain else ""


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        if value and len(value) >= 3:
            text = text.replace(value, "***")
    return text


# ============================================================================================ adapter


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One request's constraints split into what plan_select may push, what the framework must apply
    whatever happens, and the adapter's own exact (or superset) predicates."""

    pushable: Constraints
    forced: Constraints
    predicates: tuple[Callable[[SqlCompiler], exp.Expression], ...]


def _columns_of(e: Expression) -> Iterable[Expression]:
    yield e
    if isinstance(e, FunctionCall):
        for a in e.arguments:
            yield from _columns_of(a)


class TeradataAdapter(SqlAdapter):
    source_type = "teradata"
    dialect: ClassVar[SqlDialect] = TeradataDialect()
    type_map = TERADATA_TYPES
    default_casing = CasingMode.CASE_INSENSITIVE_SEARCH
    #: System databases, hidden from SHOW DATABASES (still queryable by name).
    hidden_schemas = frozenset({
        "all", "console", "crashdumps", "dbc", "dbcmngr", "default", "external_ap", "extuser", "locklogshredder",
        "public", "sqlj", "sys_calendar", "sysadmin", "sysbar", "sysjdbc", "syslib", "sysspatial", "systemfe",
        "sysudtlib", "sysxml", "td_server_db", "td_sysfnlib", "td_sysgpl", "td_sysxml", "tdbcmgmt", "tdmaps",
        "tdpuser", "tdqcd", "tdstats", "tdwm", "information_schema",
    })
    #: Table kinds Athena can read: table, NoPI table, queue table, view.
    table_kinds: ClassVar[tuple[str, ...]] = ("T", "O", "Q", "V")
    dbc: ClassVar[str] = "DBC"

    def __init__(self, spec: ConnectionSpec, settings: Settings) -> None:
        super().__init__(spec, settings)
        self.url = parse_teradata_url(spec.url)
        self.split_count = _split_count(settings.env.get("teradata_split_count", ""))
        self._kinds: dict[tuple[str, str], str] = {}
        self._secret_values: tuple[str, ...] = self.url.secret_values

    # ------------------------------------------------------------------------------------- connections

    def connect_parameters(self) -> dict[str, str]:
        """teradatasql ``connect`` keyword arguments, with the ``${secret}`` credentials resolved."""
        parameters = {"host": self.url.host, **self.url.parameters}
        credentials = credentials_for(self.spec)
        if credentials is not None:
            if credentials.username is None or credentials.password is None:
                raise SecretError(f"secret {self.spec.secret_name!r} must hold both username and password")
            clash = [n.upper() for n in ("user", "password") if n in self.url.parameters]
            if clash:
                raise ConfigurationError(f"the Teradata connection string sets {' and '.join(clash)} inline and "
                                         f"also names secret {self.spec.secret_name!r}; use one or the other")
            parameters["user"] = credentials.username
            parameters["password"] = credentials.password
            self._secret_values = (*self.url.secret_values, credentials.password)
        return parameters

    def connect(self) -> Any:
        parameters = self.connect_parameters()
        import teradatasql  # loaded on first connect: the driver is a large native library

        log.debug("connecting to Teradata host=%s dbs_port=%s database=%s user=%s", parameters["host"],
                  parameters.get("dbs_port", DEFAULT_PORT), parameters.get("database"), parameters.get("user"))
        try:
            return teradatasql.connect(None, **parameters)  # type: ignore[no-untyped-call]
        except teradatasql.Error as e:
            raise self.source_error(e) from None

    #: 2631 transaction aborted due to deadlock, 2639 too many simultaneous transactions, 3130 response limit
    #: exceeded (16 open responses per session): Teradata's CLI reference says to resubmit.
    throttle_errors = frozenset({"2631", "2639", "3130"})

    def error_codes(self, error: BaseException) -> set[str]:
        return super().error_codes(error) | {str(code) for code, _ in driver_errors(error)}

    def source_error(self, error: Exception, sql: str = "") -> ConnectorError:
        """A teradatasql error as a short message the Athena user can act on; never with a secret in it."""
        errors = driver_errors(error)
        if not errors:
            return super().source_error(error, sql)
        code, text = errors[0]
        where = f"{self.url.host}:{self.url.parameters.get('dbs_port', DEFAULT_PORT)}"
        cause = _root_cause(error)
        detail = f"{text}{'; ' + cause if cause else ''}"
        codes = {c for c, _ in errors}
        if codes & _CONNECT_CODES and code in _CONNECT_CODES:
            message = (f"cannot connect to Teradata at {where} (driver error {code}: {detail}); check the host and "
                       f"DBS_PORT in the connection string and that the Lambda's network (VPC, security groups) "
                       f"reaches the database")
            kind: type[ConnectorError] = SourceError
        elif code in _PARAMETER_CODES:
            message = f"teradatasql rejected the connection parameters (error {code}: {detail})"
            kind = ConfigurationError
        elif code in _LOGON_CODES:
            message = (f"Teradata at {where} rejected the logon (error {code}: {text}); check the user name and "
                       f"password (or the secret holding them) and LOGMECH")
            kind = AccessDenied
        elif code in _ACCESS_CODES:
            message = f"Teradata denied access (error {code}: {text})"
            kind = AccessDenied
        elif code in _TIMEOUT_CODES:
            message = f"Teradata request timed out or was aborted (error {code}: {text})"
            kind = SourceTimeout
        else:
            message = f"Teradata error {code}: {detail}"
            kind = SourceError
        return kind(_scrub(message, self._secret_values)[:800])

    # ------------------------------------------------------------------------------------- catalog queries

    def _dbc(self, view: str) -> exp.Table:
        return exp.table_(view, db=self.dbc)

    def _sql(self, tree: exp.Expression) -> str:
        return tree.sql("teradata")

    def query_schemas(self, connection: Any) -> list[str]:
        select = exp.select("DatabaseName").from_(self._dbc("DatabasesVX")).order_by(_asc("DatabaseName"))
        return [_name(r[0]) for r in self.query(connection, self._sql(select))]

    def _tables_select(self) -> exp.Select:
        return (exp.select("TableName").from_(self._dbc("TablesVX"))
                .where(_equals("DatabaseName"), _kind_in("TableKind", self.table_kinds)))

    def query_tables(self, connection: Any, schema: str) -> list[str]:
        select = self._tables_select().order_by(_asc("TableName"))
        return [_name(r[0]) for r in self.query(connection, self._sql(select), (schema,))]

    def query_tables_page(self, connection: Any, schema: str, limit: int, offset: int) -> list[str]:
        # No OFFSET in Teradata: number the rows and keep one window of them.
        number = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[_asc("TableName")]))
        select = (self._tables_select()
                  .qualify(exp.Between(this=number, low=exp.Placeholder(), high=exp.Placeholder()))
                  .order_by(_asc("TableName")))
        rows = self.query(connection, self._sql(select), (schema, offset + 1, offset + limit))
        return [_name(r[0]) for r in rows]

    def _columns_select(self, view: str) -> exp.Select:
        return (exp.select("ColumnName", "ColumnType", "ColumnLength", "DecimalTotalDigits",
                           "DecimalFractionalDigits", "Nullable", "CharType", "ColumnUDTName")
                .from_(self._dbc(view))
                .where(_equals("DatabaseName"), _equals("TableName"))
                .order_by(_asc("ColumnId")))

    def query_columns(self, connection: Any, schema: str, table: str) -> list[ColumnInfo]:
        rows = self.query(connection, self._sql(self._columns_select("ColumnsVX")), (schema, table))
        if rows and any(r[1] is None for r in rows):
            # View columns have no types in ColumnsV; ColumnsqV (Teradata 16.20+) resolves them.
            try:
                rows = self.query(connection, self._sql(self._columns_select("ColumnsqVX")), (schema, table))
            except (SourceError, AccessDenied) as e:
                log.info("DBC.ColumnsqVX is not usable (%s); describing %s.%s by preparing a SELECT", e, schema,
                         table)
                select = exp.select("*").from_(_table(schema, table))
                return [_column_info(c) for c in self.describe(connection, self._sql(select))]
        return [self._dictionary_column(row) for row in rows]

    @staticmethod
    def _dictionary_column(row: Sequence[Any]) -> ColumnInfo:
        name, code, length, total, fractional, nullable, char_type, udt = (list(row) + [None] * 8)[:8]
        code_text = (code or "").strip().upper()
        declared = type_name(code_text, _int(length), _int(total), _int(fractional), _int(char_type), udt)
        if code_text in ("D", "N"):
            precision, scale = _int(total), _int(fractional)
        elif code_text in ("AT", "TZ", "TS", "SZ"):
            precision, scale = None, _int(fractional)
        else:
            precision, scale = None, None
        if code_text and code_text not in TYPE_CODES:
            log.warning("teradata column %r has type code %r, which has no defined mapping; it is read as varchar",
                        name, code_text)
        return ColumnInfo(_name(name), declared, precision, scale, (nullable or "Y").strip().upper() != "N")

    def query_is_view(self, connection: Any, schema: str, table: str) -> bool:
        kind = self._kinds.get((schema, table))
        if kind is None:
            select = (exp.select("TableKind").from_(self._dbc("TablesVX"))
                      .where(_equals("DatabaseName"), _equals("TableName")))
            rows = self.query(connection, self._sql(select), (schema, table))
            kind = (rows[0][0] or "").strip().upper() if rows else ""
            self._kinds[(schema, table)] = kind
        return kind == "V"

    # Teradata names are case-insensitive and unique regardless of case, so a case-insensitive search is one
    # dictionary lookup instead of a listing. UPPER() on both sides: in ANSI mode a bound value is
    # CASESPECIFIC and would make a plain comparison case-sensitive.

    def resolve_schema(self, connection: Any, schema: str) -> str:
        if self.casing is not CasingMode.CASE_INSENSITIVE_SEARCH:
            return super().resolve_schema(connection, schema)
        select = (exp.select("DatabaseName").from_(self._dbc("DatabasesVX"))
                  .where(exp.EQ(this=exp.Upper(this=exp.column("DatabaseName")),
                                expression=exp.Upper(this=exp.Placeholder()))))
        names = [_name(r[0]) for r in self.query(connection, self._sql(select), (schema,))]
        found = self._pick(schema, names, "schema", "")
        if found is None:
            raise SchemaNotFound(f"schema {schema!r} not found in catalog (casing_mode={self.casing.value})")
        return found

    def resolve_table(self, connection: Any, table: TableName) -> tuple[str, str]:
        if self.casing is not CasingMode.CASE_INSENSITIVE_SEARCH:
            return super().resolve_table(connection, table)
        schema = self.resolve_schema(connection, table.schema)
        select = (exp.select("TableName", "TableKind").from_(self._dbc("TablesVX"))
                  .where(_equals("DatabaseName"),
                         exp.EQ(this=exp.Upper(this=exp.column("TableName")), expression=exp.Upper(
                             this=exp.Placeholder())),
                         _kind_in("TableKind", self.table_kinds)))
        rows = self.query(connection, self._sql(select), (schema, table.table))
        found = self._pick(table.table, [_name(r[0]) for r in rows], "table", f" in {schema}")
        if found is None:
            raise TableNotFound(f"table {table} not found (casing_mode={self.casing.value})")
        for name, kind in rows:
            if _name(name) == found:
                self._kinds[(schema, found)] = (kind or "").strip().upper()
        return schema, found

    # ------------------------------------------------------------------------------------- schema metadata

    def arrow_schema(self, source: SourceTable) -> pa.Schema:
        """The base schema plus each column's Teradata type, so ReadRecords needs no dictionary query."""
        schema = super().arrow_schema(source)
        types = {c.name: c.source_type for c in source.columns}
        fields = [f.with_metadata({**(f.metadata or {}), SOURCE_TYPE_KEY: types[f.name].encode()}) for f in schema]
        return pa.schema(fields, metadata=schema.metadata)

    def table_from_schema(self, table: TableName, schema: pa.Schema) -> SourceTable | None:
        source = super().table_from_schema(table, schema)
        if source is None:
            return None
        columns = []
        for column, f in zip(source.columns, schema, strict=True):
            source_type = (f.metadata or {}).get(SOURCE_TYPE_KEY)
            if source_type is None:
                return None  # a schema from elsewhere: look the table up rather than guess its types
            columns.append(replace(column, source_type=source_type.decode()))
        return replace(source, columns=tuple(columns))

    # ------------------------------------------------------------------------------------- splits

    def plan_splits(self, ctx: RequestContext, connection: Any, source: SourceTable, partitions: pa.Table,
                    constraints: Constraints) -> list[dict[str, str]]:
        """Split properties from the dictionary only; no data is read while planning."""
        n = self.split_count
        if n <= 1 or source.is_view:
            return [{}]
        defined = self.query_row_partitions(connection, source.schema, source.table)
        if defined is not None and defined >= 2:
            return partition_splits(defined, n)
        columns = self.query_primary_index(connection, source.schema, source.table)
        if not columns:  # NoPI table: hash all columns HASHROW accepts
            columns = [c.source_name for c in source.columns if _kind(c.source_type) in _HASHABLE]
        if not columns:
            return [{}]
        return hash_splits(columns, n)

    def query_row_partitions(self, connection: Any, schema: str, table: str) -> int | None:
        """Defined combined row partitions of a row-partitioned (PPI) table; None if it has none."""
        select = (exp.select("DefinedCombinedPartitions", "ColumnPartitioningLevel")
                  .from_(self._dbc("PartitioningConstraintsVX"))
                  .where(_equals("DatabaseName"), _equals("TableName"), _kind_in("ConstraintType", "Q")))
        rows = self.query(connection, self._sql(select), (schema, table))
        if len(rows) != 1:
            return None
        defined, column_level = _int(rows[0][0]), _int(rows[0][1])
        if column_level:  # column-partitioned: PARTITION numbers do not split rows
            return None
        return defined

    def query_primary_index(self, connection: Any, schema: str, table: str) -> list[str]:
        """Primary index (or primary AMP index) columns in index order; empty for NoPI tables."""
        select = (exp.select("ColumnName").from_(self._dbc("IndicesVX"))
                  .where(_equals("DatabaseName"), _equals("TableName"), _kind_in("IndexType", ("P", "Q", "A")))
                  .order_by(_asc("ColumnPosition")))
        return [_name(r[0]) for r in self.query(connection, self._sql(select), (schema, table))]

    def split_where(self, source: SourceTable, split: Split, compiler: SqlCompiler) -> list[exp.Expression]:
        return split_predicates(split.properties)

    # ------------------------------------------------------------------------------------- records

    def plan(self, connection: Any, table: TableName, schema: pa.Schema, split: Split,
             constraints: Constraints) -> SourceQuery:
        source = self.table_from_schema(table, schema) if len(schema) else None
        if source is None or not constraints.columns() <= source.column_map().keys():
            source = self.source_table(connection, table)
        return plan_query(self.dialect, self.split_from(source, split), source.column_map(), schema.names,
                          constraints, split_predicates(split.properties))

    def column_to_arrow(self, values: list[Any], column: SourceColumn) -> pa.Array:
        kind = _kind(column.source_type)
        if pa.types.is_timestamp(column.type):
            # Teradata keeps microseconds; Athena's TIMESTAMP has milliseconds: floor, never round up.
            fine = to_arrow(values, pa.timestamp("us", column.type.tz), column.name)
            return pc.floor_temporal(fine, unit="millisecond").cast(column.type)
        if kind in ("TIME", "TIME WITH TIME ZONE") and _is_string(column.type):
            digits = _fraction(column.source_type)
            return to_arrow([_time_text(v, digits) for v in values], column.type, column.name)
        array = super().column_to_arrow(values, column)
        if kind in _FIXED_CHARACTER and _is_string(column.type):
            return pc.utf8_rtrim(array, characters=" ")
        if kind.startswith("INTERVAL") and _is_string(column.type):
            return pc.utf8_trim_whitespace(array)
        return array

    # ------------------------------------------------------------------------------------- passthrough

    def describe(self, connection: Any, query: str) -> list[tuple[str, str, int | None, int | None]]:
        """(name, Teradata type, precision, scale) of a query's result, prepared but not executed."""
        cursor = self.execute(connection, "{fn teradata_rpo(S)}" + query)
        try:
            description = list(cursor.description or [])
            type_names = list(getattr(cursor, "columntypename", None) or [])
        finally:
            cursor.close()
        if not description:
            raise SourceError("Teradata returned no result columns for the query (is it a SELECT?)")
        if len(type_names) != len(description):
            type_names = [""] * len(description)
        return [(str(d[0]), str(t or ""), _int(d[4]), _int(d[5])) for d, t in zip(description, type_names,
                                                                                   strict=True)]

    def passthrough_columns(self, connection: Any, query: str) -> list[SourceColumn]:
        columns = []
        for name, teradata_type, precision, scale in self.describe(connection, query):
            info = _column_info((name, teradata_type, precision, scale))
            columns.append(SourceColumn(name.lower(), name, self.type_map.to_arrow(info), info.type_name))
        return columns


# ============================================================================================ planning (pure)


def plan_query(dialect: SqlDialect, table: exp.Expression, columns: Mapping[str, SourceColumn],
               projection: Sequence[str], constraints: Constraints,
               split_where: Sequence[exp.Expression] = ()) -> SourceQuery:
    """The SELECT for one split of a Teradata table, and the residual the framework applies.

    Wraps ``plan_select`` with Teradata's rules: exact millisecond-grid TIMESTAMP ranges, string prefilters
    re-checked by the framework, ORDER BY on a fractional TIMESTAMP only as the last key, and value lists
    left to the framework when the request would exceed Teradata's parameter limit.
    """
    demoted: set[str] = set()
    while True:
        prepared = _prepare(columns, constraints, demoted)

        def where(compiler: SqlCompiler, prepared: _Prepared = prepared) -> list[exp.Expression]:
            return [*(e.copy() for e in split_where), *(build(compiler) for build in prepared.predicates)]

        query = plan_select(dialect, table, columns, projection, prepared.pushable, where)
        if len(query.params) <= MAX_PARAMETERS:
            break
        candidates = {n: _value_count(v) for n, v in constraints.summary.items() if n not in demoted}
        if not candidates or max(candidates.values()) == 0:
            raise InvalidRequest(f"the request needs {len(query.params)} bind parameters, more than Teradata "
                                 f"accepts ({MAX_PARAMETERS})")
        demoted.add(max(candidates, key=lambda n: candidates[n]))
    return replace(query, residual=_merge(query.residual, prepared.forced))


def _merge(residual: Constraints, forced: Constraints) -> Constraints:
    return Constraints(
        summary={**residual.summary, **forced.summary},
        expression=(*residual.expression, *forced.expression),
        order_by=forced.order_by or residual.order_by,
        limit=forced.limit if forced.has_limit else residual.limit,
    )


def _prepare(columns: Mapping[str, SourceColumn], constraints: Constraints, demoted: set[str]) -> _Prepared:
    pushable: dict[str, ValueSet] = {}
    forced: dict[str, ValueSet] = {}
    predicates: list[Callable[[SqlCompiler], exp.Expression]] = []
    for name, value_set in constraints.summary.items():
        column = columns.get(name)
        if column is None:
            pushable[name] = value_set  # the compiler names the unknown column
            continue
        if name in demoted:
            forced[name] = value_set
            continue
        if _is_wall_clock(column.type) and _has_values(value_set):
            built = _timestamp_predicate(name, value_set)
            if built is None:
                forced[name] = value_set
            else:
                predicates.append(built)
            continue
        if pa.types.is_floating(column.type) and not _finite(value_set):
            forced[name] = value_set
            continue
        if _is_string(column.type) and _kind(column.source_type) in _CHARACTER:
            prefilter = _string_prefilter(name, value_set)
            if prefilter is not None:
                predicates.append(prefilter)  # the value set itself stays in the residual (can_compare)
        pushable[name] = value_set
    timestamp_columns = {n for n, c in columns.items() if _is_wall_clock(c.type)}
    pushable_expressions: list[Expression] = []
    forced_expressions: list[Expression] = []
    for e in constraints.expression:
        touches = any((isinstance(x, Variable) and x.column in timestamp_columns)
                      or (isinstance(x, Constant) and _is_wall_clock(x.type)) for x in _columns_of(e))
        (forced_expressions if touches else pushable_expressions).append(e)
    force_order = not _orderable(columns, constraints.order_by)
    force_limit = constraints.has_limit and (bool(forced) or bool(forced_expressions) or force_order
                                             or not 1 <= constraints.limit <= MAX_TOP)
    pushable_constraints = replace(
        constraints, summary=pushable, expression=tuple(pushable_expressions),
        order_by=() if force_order else constraints.order_by, limit=-1 if force_limit else constraints.limit)
    forced_constraints = Constraints(
        summary=forced, expression=tuple(forced_expressions),
        order_by=constraints.order_by if force_order else (), limit=constraints.limit if force_limit else -1)
    return _Prepared(pushable_constraints, forced_constraints, tuple(predicates))


def _orderable(columns: Mapping[str, SourceColumn], order_by: Sequence[OrderByField]) -> bool:
    """A fractional TIMESTAMP sorts the rows more finely than Athena's milliseconds do; that is a valid
    order for Athena only as the last key (ties in milliseconds may come in any order)."""
    for i, f in enumerate(order_by):
        column = columns.get(f.column)
        if column is None or not _is_wall_clock(column.type) or i == len(order_by) - 1:
            continue
        digits = _fraction(column.source_type)
        if digits is None or digits > 3:
            return False
    return True


def _has_values(value_set: ValueSet) -> bool:
    if isinstance(value_set, AllOrNoneValueSet):
        return False
    if isinstance(value_set, EquatableValueSet):
        return any(v is not None for v in value_set.values)
    return bool(value_set.ranges) and not any(r.is_all for r in value_set.ranges)


def _value_count(value_set: ValueSet) -> int:
    if isinstance(value_set, EquatableValueSet):
        return len(value_set.values)
    if isinstance(value_set, SortedRangeSet):
        return 2 * len(value_set.ranges)
    return 0


def _finite(value_set: ValueSet) -> bool:
    values: list[Any] = []
    if isinstance(value_set, EquatableValueSet):
        values = list(value_set.values)
    elif isinstance(value_set, SortedRangeSet):
        values = [m.value for r in value_set.ranges for m in (r.low, r.high) if not m.unbounded]
    return all(v is None or math.isfinite(v) for v in values)


def _on_grid(value: Any) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is None and value.microsecond % 1000 == 0


def _timestamp_predicate(name: str, value_set: ValueSet) -> Callable[[SqlCompiler], exp.Expression] | None:
    """Athena sees ``floor_ms(ts)``; on the millisecond grid every comparison with it is exact on ``ts``:
    ``floor(ts) >= v`` is ``ts >= v``, ``floor(ts) > v`` is ``ts >= v + 1ms``, ``floor(ts) <= v`` is
    ``ts < v + 1ms``, ``floor(ts) < v`` is ``ts < v``, and ``floor(ts) = v`` is ``v <= ts < v + 1ms``."""
    if not isinstance(value_set, SortedRangeSet):
        return None
    bounds: list[tuple[dt.datetime | None, dt.datetime | None]] = []
    try:
        for r in value_set.ranges:
            if r.is_single_value:
                if not _on_grid(r.low.value):
                    return None
                bounds.append((r.low.value, r.low.value + MILLISECOND))
                continue
            low = high = None
            if not r.low.unbounded:
                if not _on_grid(r.low.value):
                    return None
                low = r.low.value if r.low.bound is Bound.EXACTLY else r.low.value + MILLISECOND
            if not r.high.unbounded:
                if not _on_grid(r.high.value):
                    return None
                high = r.high.value + MILLISECOND if r.high.bound is Bound.EXACTLY else r.high.value
            bounds.append((low, high))
    except OverflowError:
        return None
    null_allowed = value_set.null_allowed

    def build(compiler: SqlCompiler) -> exp.Expression:
        column = compiler.column(name)
        parts: list[exp.Expression] = []
        for low, high in bounds:
            conditions: list[exp.Expression] = []
            if low is not None:
                conditions.append(exp.GTE(this=column.copy(), expression=compiler.bind(low, TIMESTAMP)))
            if high is not None:
                conditions.append(exp.LT(this=column.copy(), expression=compiler.bind(high, TIMESTAMP)))
            parts.append(conditions[0] if len(conditions) == 1 else exp.paren(exp.and_(*conditions)))
        core = parts[0] if len(parts) == 1 else exp.paren(exp.or_(*parts))
        if null_allowed:
            return exp.paren(exp.or_(core, exp.Is(this=column.copy(), expression=exp.Null())))
        return core

    return build


def _safe_text(value: Any) -> bool:
    """Text Teradata can compare without a translation error: BMP characters, no control characters."""
    return isinstance(value, str) and all(0x20 <= ord(ch) <= 0xFFFD and not 0xD800 <= ord(ch) <= 0xDFFF
                                          for ch in value)


def _string_prefilter(name: str, value_set: ValueSet) -> Callable[[SqlCompiler], exp.Expression] | None:
    """``col IN (...)``: Teradata's answer is a superset of Athena's (pad semantics, maybe case-insensitive);
    the framework re-checks the value set exactly. Only for positive membership - a negation would not be a
    superset."""
    if isinstance(value_set, EquatableValueSet) and value_set.white_list:
        values = [v for v in value_set.values if v is not None]
    elif isinstance(value_set, SortedRangeSet) and value_set.ranges and all(r.is_single_value
                                                                            for r in value_set.ranges):
        values = [r.low.value for r in value_set.ranges]
    else:
        return None
    if not values or len(values) > TeradataDialect.max_in_list or not all(_safe_text(v) for v in values):
        return None
    null_allowed = value_set.null_allowed

    def build(compiler: SqlCompiler) -> exp.Expression:
        column = compiler.column(name)
        if len(values) == 1:
            core: exp.Expression = exp.EQ(this=column, expression=compiler.bind(values[0], VARCHAR))
        else:
            core = exp.In(this=column, expressions=[compiler.bind(v, VARCHAR) for v in values])
        if null_allowed:
            return exp.paren(exp.or_(core, exp.Is(this=column.copy(), expression=exp.Null())))
        return core

    return build


# ============================================================================================ splits (pure)


def partition_splits(defined: int, n: int) -> list[dict[str, str]]:
    """Contiguous ranges of row-partition numbers 1..defined. The first range is open below and the last
    open above, so every row's PARTITION (whatever its number) falls in exactly one split."""
    count = max(1, min(n, defined))
    bounds = [1 + (defined * i) // count for i in range(count + 1)]
    splits = []
    for i in range(count):
        low = "" if i == 0 else str(bounds[i])
        high = "" if i == count - 1 else str(bounds[i + 1] - 1)
        splits.append({"split": "partition", "partition_low": low, "partition_high": high})
    return splits


def hash_splits(columns: Sequence[str], n: int) -> list[dict[str, str]]:
    """``HASHBUCKET(HASHROW(columns)) MOD n = k`` for k in 0..n-1: HASHROW returns a hash for any values
    (NULLs included), HASHBUCKET a non-negative integer, so each row is in exactly one split."""
    names = json.dumps(list(columns))
    return [{"split": "hash", "hash_columns": names, "buckets": str(n), "bucket": str(k)} for k in range(n)]


def split_predicates(properties: Mapping[str, str]) -> list[exp.Expression]:
    """The WHERE conditions of one split, from its (validated) properties."""
    kind = properties.get("split", "")
    if not kind:
        return []
    if kind == "partition":
        partition = exp.column("PARTITION")  # the system-derived row-partition number (unquoted keyword)
        conditions: list[exp.Expression] = []
        low, high = properties.get("partition_low", ""), properties.get("partition_high", "")
        if low:
            conditions.append(exp.GTE(this=partition.copy(), expression=exp.Literal.number(_split_int(low, 1))))
        if high:
            conditions.append(exp.LTE(this=partition.copy(), expression=exp.Literal.number(_split_int(high, 1))))
        return conditions
    if kind == "hash":
        try:
            columns = json.loads(properties.get("hash_columns", ""))
        except ValueError:
            columns = None
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str) and 0 < len(c) <= 128
                                                                   for c in columns):
            raise InvalidRequest("a Teradata hash split needs hash_columns: a JSON list of column names")
        buckets = _split_int(properties.get("buckets", ""), 1, MAX_SPLITS)
        bucket = _split_int(properties.get("bucket", ""), 0, buckets - 1)
        row_hash = exp.Anonymous(this="HASHROW", expressions=[exp.column(c, quoted=True) for c in columns])
        hashed = exp.Anonymous(this="HASHBUCKET", expressions=[row_hash])
        return [exp.EQ(this=exp.Mod(this=hashed, expression=exp.Literal.number(buckets)),
                       expression=exp.Literal.number(bucket))]
    raise InvalidRequest(f"unknown Teradata split kind {kind[:40]!r}")


def _split_int(text: str, low: int, high: int | None = None) -> int:
    if not re.fullmatch(r"\d{1,18}", text or ""):
        raise InvalidRequest(f"split property {text[:40]!r} must be a whole number")
    value = int(text)
    if value < low or (high is not None and value > high):
        raise InvalidRequest(f"split property {value} is out of range")
    return value


def _split_count(text: str) -> int:
    if not text.strip():
        return DEFAULT_SPLITS
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_SPLITS:
        raise ConfigurationError(f"teradata_split_count={text!r} must be a whole number from 1 to {MAX_SPLITS}")
    return int(text)


# ============================================================================================ helpers


def _equals(column: str) -> exp.Expression:
    """``column = ?`` (dictionary names are bound, never spliced into the SQL)."""
    return exp.EQ(this=exp.column(column), expression=exp.Placeholder())


def _kind_in(column: str, kinds: Iterable[str]) -> exp.Expression:
    return exp.In(this=exp.column(column), expressions=[exp.Literal.string(k) for k in kinds])


def _asc(name: str) -> exp.Ordered:
    # nulls_first=True is Teradata's own order for ASC, so sqlglot writes no NULLS clause.
    return exp.Ordered(this=exp.column(name), desc=False, nulls_first=True)


def _table(schema: str, table: str) -> exp.Table:
    return exp.table_(exp.to_identifier(table, quoted=True), db=exp.to_identifier(schema, quoted=True))


def _name(value: Any) -> str:
    return str(value).rstrip() if value is not None else ""


def _int(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _column_info(described: tuple[str, str, int | None, int | None]) -> ColumnInfo:
    """A prepared statement's column (teradatasql ``columntypename`` + precision/scale) as a ColumnInfo."""
    name, teradata_type, precision, scale = described
    kind = normalize(teradata_type)
    if kind in ("DECIMAL", "NUMERIC", "NUMBER"):
        return ColumnInfo(name, f"{kind}({precision},{scale})" if precision else kind, precision, scale)
    if kind in ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIME", "TIME WITH TIME ZONE") and scale is not None:
        head, _, tail = kind.partition(" ")
        return ColumnInfo(name, f"{head}({scale}){' ' + tail if tail else ''}", None, scale)
    return ColumnInfo(name, teradata_type or "VARCHAR")


def _time_text(value: Any, digits: int | None) -> str | None:
    """TIME values in Teradata's text form, with the column's fractional digits."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dt.time):
        return str(value)
    text = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    if digits is None:
        digits = 6 if value.microsecond else 0
    if digits > 0:
        text += "." + f"{value.microsecond:06d}"[:digits]
    offset = value.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        text += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return text


__all__ = [
    "PARAMETERS", "TERADATA_TYPES", "TeradataAdapter", "TeradataDialect", "TeradataUrl", "driver_errors",
    "hash_splits", "parse_teradata_url", "partition_splits", "plan_query", "split_predicates", "type_name",
]
