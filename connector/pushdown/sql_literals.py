"""SQL literals as typed Python values, the way Athena (Trino) types them.

Constraints carry values of the *column's* logical type. A literal is converted to that type only when the
conversion is exact (``amount > 990`` on a DECIMAL(12,2) column becomes ``Decimal('990.00')``;
``id > 5.5`` on a BIGINT column is not a domain at all), because a rounded value would change which rows
the connector returns. Anything not exact raises ``NotExact`` and the predicate stays with the engine.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Context, Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
from sqlglot import exp


class NotExact(Exception):
    """The literal is not a constant, or has no exact value of the wanted type."""


_INT_RANGES = {8: 2**7, 16: 2**15, 32: 2**31, 64: 2**63}
_INTEGER_TEXT = re.compile(r"^[0-9]+$")
_DECIMAL_TEXT = re.compile(r"^([0-9]*)\.([0-9]*)$")


def literal(node: exp.Expr) -> tuple[Any, pa.DataType]:
    """The value and Trino type of a constant expression; ``NotExact`` for anything else (NULL included)."""
    if isinstance(node, exp.Paren):
        return literal(node.this)
    if isinstance(node, exp.Neg):
        value, t = literal(node.this)
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise NotExact("only numbers can be negated")
        if pa.types.is_integer(t) and -value < -_INT_RANGES[t.bit_width]:
            t = pa.int64()
        if isinstance(value, Decimal):
            return value.copy_negate(), t  # exact: unary minus rounds to the context's 28 digits
        return -value, t
    if isinstance(node, exp.Boolean):
        return bool(node.this), pa.bool_()
    if isinstance(node, exp.Literal):
        if node.is_string:
            return str(node.this), pa.string()
        return _number(str(node.this))
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        return _typed_string(str(node.this.this), node.to)
    raise NotExact(f"{node.sql('trino')} is not a literal")


def _number(text: str) -> tuple[Any, pa.DataType]:
    if _INTEGER_TEXT.match(text):
        value = int(text)
        if value < _INT_RANGES[32]:
            return value, pa.int32()
        if value < _INT_RANGES[64]:
            return value, pa.int64()
        return _decimal(Decimal(text))
    match = _DECIMAL_TEXT.match(text)
    if match:
        return _decimal(Decimal(text))
    try:
        return float(text), pa.float64()  # 1e3: Trino reads exponent notation as DOUBLE
    except ValueError:
        raise NotExact(f"cannot read the number {text!r}") from None


def _decimal(value: Decimal) -> tuple[Decimal, pa.DataType]:
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    scale = max(0, -exponent)
    precision = max(len(digits), scale, 1)
    if precision > 38:
        raise NotExact(f"the number {value} has more than 38 digits")
    return value, pa.decimal128(precision, scale)


def _typed_string(text: str, to: exp.DataType) -> tuple[Any, pa.DataType]:
    kind = to.this
    T = exp.DataType.Type
    try:
        if kind == T.DATE:
            return dt.date.fromisoformat(text.strip()), pa.date32()
        if kind in (T.TIMESTAMP, T.DATETIME):
            return _timestamp(text.strip()), pa.timestamp("ms")
        if kind == T.DOUBLE:
            return float(text), pa.float64()
        if kind == T.FLOAT:
            return float(text), pa.float32()
        if kind in (T.DECIMAL, T.BIGDECIMAL):
            return _decimal(Decimal(text.strip()))
        if kind in (T.INT, T.BIGINT, T.SMALLINT, T.TINYINT):
            widths = {T.TINYINT: pa.int8(), T.SMALLINT: pa.int16(), T.INT: pa.int32(), T.BIGINT: pa.int64()}
            value = int(text.strip())
            t = widths[kind]
            if not -_INT_RANGES[t.bit_width] <= value < _INT_RANGES[t.bit_width]:
                raise NotExact(f"{value} does not fit {t}")
            return value, t
        if kind in (T.VARCHAR, T.CHAR, T.TEXT):
            return text, pa.string()
    except (ValueError, InvalidOperation):
        raise NotExact(f"{text!r} is not a valid {to.sql('trino')}") from None
    raise NotExact(f"literals of type {to.sql('trino')} are not converted")


def _timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        raise NotExact("TIMESTAMP WITH TIME ZONE literals are not converted")
    if value.microsecond % 1000:
        raise NotExact(f"{text!r} is more precise than the millisecond TIMESTAMP of the protocol")
    return value


def coerce(value: Any, source: pa.DataType, target: pa.DataType) -> Any:
    """``value`` (of Trino type ``source``) as an exact value of logical type ``target``, or ``NotExact``."""
    if value is None:
        raise NotExact("NULL is not a value")
    if pa.types.is_boolean(target):
        if isinstance(value, bool):
            return value
    elif pa.types.is_integer(target):
        number = _integral(value)
        limit = _INT_RANGES[target.bit_width]
        if number is not None and -limit <= number < limit:
            return number
    elif pa.types.is_floating(target):
        if isinstance(value, bool):
            raise NotExact("a boolean is not a number")
        if isinstance(value, int) and abs(value) > 2**53:
            raise NotExact(f"{value} has no exact floating point value")
        if isinstance(value, int | float | Decimal):
            as_float = float(value)
            if math.isnan(as_float):
                raise NotExact("NaN is not comparable")
            return as_float
    elif pa.types.is_decimal(target):
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return _as_decimal(Decimal(value), target)
    elif pa.types.is_string(target):
        if isinstance(value, str) and pa.types.is_string(source):
            return value
    elif pa.types.is_date32(target):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
    elif pa.types.is_timestamp(target) and target.tz is None:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return value
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime(value.year, value.month, value.day)  # Trino widens DATE to TIMESTAMP
    raise NotExact(f"{value!r} ({source}) has no exact value of type {target}")


def _integral(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    return None


_WIDE = Context(prec=80)  # any decimal128 at any scale; the default context's 28 digits reject DECIMAL(38,s)


def _as_decimal(value: Decimal, target: pa.Decimal128Type) -> Decimal:
    try:
        exact = value.quantize(Decimal(1).scaleb(-target.scale, _WIDE), context=_WIDE)
    except InvalidOperation:
        raise NotExact(f"{value} does not fit {target}") from None
    if exact != value:
        raise NotExact(f"{value} has more than {target.scale} decimal places")
    if len(exact.as_tuple().digits) > target.precision:
        raise NotExact(f"{value} does not fit {target}")
    return exact
