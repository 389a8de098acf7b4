"""The JVM side of the JDBC adapter: starting the JVM, loading drivers, binding and reading values.

A process can start only one JVM, with one class path. Drivers are therefore loaded through their own class
loader when they are not on the JVM's class path, so catalogs with different drivers work side by side.

Values are read with typed getters (``getLong``, ``getBigDecimal``, ``getObject(i, LocalDateTime.class)``...)
straight into Arrow: NUMERIC stays decimal, DATE and TIMESTAMP stay dates and timestamps (jaydebeapi's own
converters would give floats and strings); timestamps are floored to Athena's milliseconds.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from adapters.jdbc.dialects.generic import BINARY_CODES, TEXT_CODES, Types
from adapters.sql.convert import to_arrow
from adapters.sql.types import TIMESTAMP, TIMESTAMP_TZ, VARCHAR
from connector import exact_cast
from connector.errors import ConfigurationError, SourceError, first_line
from connector.pushdown.sql import SourceColumn

DEFAULT_JAR_DIR = "/usr/share/java"
DEFAULT_DRIVERS: dict[str, tuple[str, str]] = {
    "postgresql": ("org.postgresql.Driver", "postgresql.jar"),
    "h2": ("org.h2.Driver", "h2.jar"),
}


# ------------------------------------------------------------------------------------------ the JVM


_jvm_lock = threading.Lock()
_loaders: dict[tuple[str, ...], Any] = {}


def expand_jars(spec: str) -> list[str]:
    """``a.jar:dir:lib/*.jar`` -> jar paths; a named file that does not exist is a configuration error."""
    jars: list[str] = []
    for entry in (e.strip() for e in spec.split(os.pathsep)):
        if not entry:
            continue
        if any(ch in entry for ch in "*?["):
            jars.extend(sorted(glob.glob(entry)))
        elif os.path.isdir(entry):
            jars.extend(sorted(glob.glob(os.path.join(entry, "*.jar"))))
        elif os.path.isfile(entry):
            jars.append(entry)
        else:
            raise ConfigurationError(f"JDBC driver jar {entry!r} does not exist (set jdbc_driver_jars)")
    return jars


def start_jvm(classpath: Sequence[str] = (), options: Sequence[str] = ()) -> None:
    """Start the process's JVM once (JPype cannot restart it); later calls are no-ops.

    The class path also gets the default driver jars that are installed, so code that reaches drivers through
    ``DriverManager`` (plain jaydebeapi) in the same process finds them whichever adapter started the JVM.
    """
    import jpype

    with _jvm_lock:
        if jpype.isJVMStarted():
            return
        defaults = [os.path.join(DEFAULT_JAR_DIR, jar) for _, jar in DEFAULT_DRIVERS.values()]
        jars = list(dict.fromkeys([*classpath, *(j for j in defaults if os.path.isfile(j))]))
        try:
            jpype.startJVM(*options, "-Duser.timezone=UTC", classpath=jars, convertStrings=True)
        except (OSError, RuntimeError, TypeError) as e:  # no JVM installed, bad options
            raise ConfigurationError(
                f"cannot start the Java VM for JDBC: {e} (install a JRE or set JAVA_HOME)") from None


def load_driver(class_name: str, jars: Sequence[str]) -> Any:
    """An instance of the driver class, from the JVM class path or else from its own class loader."""
    import jpype

    try:
        driver_class = jpype.JClass(class_name)
    except Exception:  # not on the JVM's class path (a JVM started earlier with other jars)
        key = tuple(jars)
        with _jvm_lock:
            loader = _loaders.get(key)
            if loader is None:
                url_class = jpype.JClass("java.net.URL")
                urls = jpype.JArray(url_class)([jpype.JClass("java.io.File")(j).toURI().toURL() for j in jars])
                loader = jpype.JClass("java.net.URLClassLoader")(urls, jpype.JClass("java.lang.ClassLoader")
                                                                 .getSystemClassLoader())
                _loaders[key] = loader
        try:
            driver_class = jpype.JClass(class_name, loader=loader)
        except Exception:
            raise ConfigurationError(f"JDBC driver class {class_name!r} is not in {list(jars)} (set "
                                     f"jdbc_driver_class and jdbc_driver_jars)") from None
    return driver_class()


def to_java(value: Any) -> Any:
    """A bind parameter as the Java object ``setObject`` should get (JDBC 4.2 java.time types)."""
    import jpype

    if value is None or isinstance(value, bool | int | float | str):
        return value  # JPype boxes these (Boolean, Long, Double, String)
    if isinstance(value, Decimal):
        return jpype.JClass("java.math.BigDecimal")(str(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return jpype.JArray(jpype.JByte)(bytes(value))
    if isinstance(value, dt.datetime):
        fields = (value.year, value.month, value.day, value.hour, value.minute, value.second,
                  value.microsecond * 1000)
        if value.tzinfo is None:
            return jpype.JClass("java.time.LocalDateTime").of(*fields)
        offset = value.utcoffset() or dt.timedelta()
        zone = jpype.JClass("java.time.ZoneOffset").ofTotalSeconds(int(offset.total_seconds()))
        return jpype.JClass("java.time.OffsetDateTime").of(*fields, zone)
    if isinstance(value, dt.date):
        return jpype.JClass("java.time.LocalDate").of(value.year, value.month, value.day)
    raise TypeError(f"cannot bind a {type(value).__name__} as a JDBC parameter")


# ------------------------------------------------------------------------------------------ reading values


_EPOCH = dt.date(1970, 1, 1)


@cache
def _java_classes() -> dict[str, Any]:
    import jpype

    return {
        "LocalDate": jpype.JClass("java.time.LocalDate").class_,
        "LocalDateTime": jpype.JClass("java.time.LocalDateTime").class_,
        "OffsetDateTime": jpype.JClass("java.time.OffsetDateTime").class_,
        "UTC": jpype.JClass("java.time.ZoneOffset").UTC,
    }


def _millis(seconds: int, nanos: int) -> int:
    return int(seconds) * 1000 + int(nanos) // 1_000_000  # nanos are never negative: this floors


def text_readable(t: pa.DataType) -> bool:
    """Types read as the driver's text when the dialect allows it (one JNI call a value, parsed by Arrow)."""
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
                or pa.types.is_date32(t) or (pa.types.is_timestamp(t) and t.tz is None))


def make_reader(rs: Any, index: int, t: pa.DataType, *, text: bool = False) -> Callable[[], Any]:
    """A function returning column ``index`` (1-based) of the current row in the form ``build_array`` takes.

    ``text``: read numbers, decimals, dates and timestamps with ``getString`` (the driver's canonical text) -
    one call into the JVM per value instead of two or three - and let Arrow parse them.
    """
    classes = _java_classes()
    was_null = rs.wasNull
    if text and text_readable(t):
        get_text = rs.getString

        def read_text() -> Any:
            v = get_text(index)
            return None if v is None else str(v)
        return read_text
    if pa.types.is_integer(t):
        get_long = rs.getLong

        def read_long() -> Any:
            v = get_long(index)
            return None if was_null() else v
        return read_long
    if pa.types.is_floating(t):
        get_double = rs.getDouble

        def read_double() -> Any:
            v = get_double(index)
            return None if was_null() else v
        return read_double
    if pa.types.is_boolean(t):
        get_boolean = rs.getBoolean

        def read_boolean() -> Any:
            v = get_boolean(index)
            return None if was_null() else v
        return read_boolean
    if pa.types.is_decimal(t):
        get_decimal = rs.getBigDecimal

        def read_decimal() -> Any:
            v = get_decimal(index)
            return None if v is None else str(v.toPlainString())
        return read_decimal
    if pa.types.is_date32(t):
        get_object, local_date = rs.getObject, classes["LocalDate"]

        def read_date() -> Any:
            v = get_object(index, local_date)
            return None if v is None else v.toEpochDay()
        return read_date
    if pa.types.is_timestamp(t) and t.tz is None:
        get_object, local_date_time, utc = rs.getObject, classes["LocalDateTime"], classes["UTC"]

        def read_timestamp() -> Any:
            v = get_object(index, local_date_time)
            return None if v is None else _millis(v.toEpochSecond(utc), v.getNano())
        return read_timestamp
    if pa.types.is_timestamp(t):
        get_object, offset_date_time = rs.getObject, classes["OffsetDateTime"]

        def read_instant() -> Any:
            v = get_object(index, offset_date_time)
            return None if v is None else _millis(v.toEpochSecond(), v.getNano())
        return read_instant
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        get_bytes = rs.getBytes

        def read_bytes() -> Any:
            v = get_bytes(index)
            return None if v is None else bytes(v)
        return read_bytes
    get_string = rs.getString

    def read_string() -> Any:
        v = get_string(index)
        return None if v is None else str(v)
    return read_string


def build_array(values: list[Any], column: SourceColumn, *, text: bool = False) -> pa.Array:
    """The values ``make_reader`` produced -> an Arrow array of the column's type (strictly: no rounding)."""
    t = column.type
    try:
        if text and text_readable(t):
            strings = pa.array(values, pa.string())
            if pa.types.is_timestamp(t):
                # "YYYY-MM-DD HH:MM:SS.fff" is 23 characters: cutting the finer digits floors to milliseconds.
                return pc.utf8_slice_codeunits(strings, 0, 23).cast(pa.timestamp("ms")).cast(t)
            return exact_cast.cast(strings, t)
        if pa.types.is_decimal(t):
            return exact_cast.cast(pa.array(values, pa.string()), t)
        if pa.types.is_date32(t):
            return pa.array(values, pa.int32()).view(pa.date32())
        if pa.types.is_timestamp(t):
            millis = pa.array(values, pa.int64()).view(pa.timestamp("ms", t.tz and "UTC"))
            return millis if t.unit == "ms" and t.tz in (None, "UTC") else millis.cast(t)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError) as e:
        hint = ("; declare the column's precision and scale, or set default_scale for NUMERIC without them"
                if pa.types.is_decimal(t) else "")
        raise SourceError(f"column {column.name!r}: values cannot be read as {t} "
                          f"({first_line(e, 200)}){hint}") from None
    return to_arrow(values, t, column.name)


# ------------------------------------------------------------------------------------------ DB-API (jaydebeapi)


def dbapi_converters() -> dict[int, Callable[[Any, int], Any]]:
    """jaydebeapi converters that lose nothing (its defaults turn NUMERIC into float and dates into text)."""

    def typed(t: pa.DataType, to_python: Callable[[Any], Any]) -> Callable[[Any, int], Any]:
        def convert(rs: Any, col: int) -> Any:
            v = make_reader(rs, col, t)()
            return None if v is None else to_python(v)
        return convert

    def timestamp(v: int) -> dt.datetime:
        return dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=v)

    def instant(v: int) -> dt.datetime:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=v)

    integer = typed(pa.int64(), int)
    converters: dict[int, Callable[[Any, int], Any]] = {
        Types.TINYINT: integer, Types.SMALLINT: integer, Types.INTEGER: integer, Types.BIGINT: integer,
        Types.REAL: typed(pa.float64(), float), Types.FLOAT: typed(pa.float64(), float),
        Types.DOUBLE: typed(pa.float64(), float), Types.BOOLEAN: typed(pa.bool_(), bool),
        Types.NUMERIC: typed(pa.decimal128(38, 0), Decimal), Types.DECIMAL: typed(pa.decimal128(38, 0), Decimal),
        Types.DATE: typed(pa.date32(), lambda d: _EPOCH + dt.timedelta(days=d)),
        Types.TIMESTAMP: typed(TIMESTAMP, timestamp), Types.TIMESTAMP_WITH_TIMEZONE: typed(TIMESTAMP_TZ, instant),
    }
    for code in BINARY_CODES:
        converters[code] = typed(pa.binary(), bytes)
    for code in (*TEXT_CODES, Types.TIME, Types.TIME_WITH_TIMEZONE, Types.OTHER, Types.BIT, Types.ARRAY):
        converters[code] = typed(VARCHAR, str)
    return converters


@cache
def prepare_jaydebeapi() -> None:
    """jaydebeapi fills its java.sql.Types tables (used by ``cursor.description``) only in its own
    ``connect``; connections made here skip that, so fill them the same way."""
    import jaydebeapi
    import jpype

    if getattr(jaydebeapi, "_jdbc_name_to_const", None) is None and hasattr(jaydebeapi, "_init_types"):
        fields = jpype.JClass("java.sql.Types").class_.getFields()
        jaydebeapi._init_types({str(f.getName()): int(f.get(None)) for f in fields})


def java_message(error: BaseException) -> str:
    """The message of a Java exception (or of jaydebeapi's wrapper around one), first line only."""
    inner = error.args[0] if error.args and not isinstance(error.args[0], str) else error
    message = None
    get_message = getattr(inner, "getMessage", None)
    if callable(get_message):
        try:
            message = get_message()
        except Exception:  # a broken exception object: fall back to its text
            message = None
    has_text = message is not None and str(message).strip()
    return first_line(message if has_text else inner, limit=None)
