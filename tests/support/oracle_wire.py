"""Oracle NUMBER as the server sends it, and python-oracledb's conversion of it to an Arrow decimal.

python-oracledb's thin mode decodes NUMBER bytes and fills Arrow arrays in compiled Cython that has no Python entry
point (``decode_number`` and ``convert_number_to_arrow_decimal`` are ``cdef``), and no Oracle server runs here.
So this module ports the driver's documented algorithm, function by function, from its source
(github.com/oracle/python-oracledb at commit 60eb3222, 4.1.0b1, Aug 2026 - the installed 26.1 wheel compiles
functions of the same names; that the compiled code is identical cannot be checked here):

* ``encode_number``: the server's wire format of NUMBER (an exponent byte, then base-100 digits; negative
  numbers inverted and ended by 102), per Oracle's documented internal format;
* ``decode_number``: ``src/oracledb/impl/base/decoders.pyx`` - the bytes to the driver's text of the number;
* ``arrow_decimal``: ``src/oracledb/impl/base/converters.pyx`` ``convert_number_to_arrow_decimal`` - it checks
  only the significant digits against the requested precision and the decimals against the requested scale,
  then appends zeros up to the scale and hands the digit string to nanoarrow's ``ArrowDecimalSetDigits``
  (``src/oracledb/impl/arrow/nanoarrow/nanoarrow.c``), which shifts the digits into the decimal's 32-bit words
  with no overflow check: a value with more integer digits than ``precision - scale`` wraps modulo 2^128.
  More decimals than the scale raise DPY-4042.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

_MAX_MANTISSA = 20  # base-100 digits (40 decimal digits)


class DriverDecimalError(ValueError):
    """DPY-4042, as the driver raises it."""


def encode_number(value: Decimal) -> bytes:
    """A NUMBER's bytes on the wire (Oracle's internal format)."""
    if value.is_zero():
        return b"\x80"
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).lstrip("0")
    before_point = len(text) + exponent  # decimal digits before the point (may be <= 0)
    if before_point % 2:
        text, before_point = "0" + text, before_point + 1
    text += "0" * (len(text) % 2)
    pairs = [int(text[i : i + 2]) for i in range(0, len(text), 2)]
    while pairs and pairs[-1] == 0:
        pairs.pop()
    if len(pairs) > _MAX_MANTISSA:
        raise ValueError(f"{value} has more than 40 significant digits")
    base100_exponent = before_point // 2 - 1
    if not sign:
        return bytes([193 + base100_exponent, *(d + 1 for d in pairs)])
    encoded = bytes([(~(193 + base100_exponent)) & 0xFF, *(101 - d for d in pairs)])
    return encoded + (b"\x66" if len(pairs) < _MAX_MANTISSA else b"")


def _int8(value: int) -> int:
    value &= 0xFF
    return value - 256 if value > 127 else value


def decode_number(data: bytes) -> str:
    """The driver's ``decode_number``: NUMBER bytes -> its text (``OracleNumber.chars``)."""
    positive = bool(data[0] & 0x80)
    exponent = _int8(data[0])  # the driver's int8_t arithmetic
    if not positive:
        exponent = _int8(~exponent)
    exponent = _int8(exponent - 193)
    decimal_point_index = exponent * 2 + 2
    if len(data) == 1:
        if positive:
            return "0"
        raise DriverDecimalError("-1e126 cannot be converted")  # is_max_negative_value
    end = len(data) - 1 if not positive and data[-1] == 102 else len(data)
    digits: list[int] = []
    for i in range(1, end):
        byte = data[i] - 1 if positive else 101 - data[i]
        digit = byte // 10
        if digit == 0 and not digits:
            decimal_point_index -= 1
        elif digit == 10:
            digits += [1, 0]
            decimal_point_index += 1
        else:
            digits.append(digit)
        digit = byte % 10
        if digit != 0 or i < end - 1:
            digits.append(digit)
    chars = "" if positive else "-"
    if decimal_point_index <= 0:
        chars += "0." + "0" * -decimal_point_index
    for i, d in enumerate(digits):
        if 0 < i == decimal_point_index:
            chars += "."
        chars += str(d)
    if decimal_point_index > len(digits):
        chars += "0" * (decimal_point_index - len(digits))
    return chars


def arrow_decimal(chars: str, precision: int, scale: int) -> int:
    """``convert_number_to_arrow_decimal`` + ``ArrowDecimalSetDigits``: the 128-bit unscaled value it stores."""
    digits_seen = decimals = 0
    found_point = found_nonzero = False
    for ch in chars:
        if ch == "-":
            continue
        if ch == ".":
            found_point = True
            continue
        if found_point:
            decimals += 1
        if ch == "0" and not found_nonzero:
            continue
        found_nonzero = True
        digits_seen += 1
    if digits_seen > precision or decimals > scale:
        raise DriverDecimalError(f"DPY-4042: {chars} cannot be converted to an Apache Arrow decimal({precision}, "
                                 f"{scale})")
    whole, _, fraction = chars.partition(".")
    text = whole + fraction + "0" * (scale - decimals)
    negative = text.startswith("-")
    magnitude = int(text.lstrip("-")) % (1 << 128)  # 32-bit words, carries past the top dropped
    stored = (-magnitude) % (1 << 128) if negative else magnitude
    return stored - (1 << 128) if stored >= 1 << 127 else stored


def decimal_array(values: list[Decimal | None], t: pa.Decimal128Type) -> pa.Array:
    """What ``fetch_df_batches`` returns for a NUMBER column requested as ``t``: each value from its wire bytes
    through the driver's conversion, stored as the 16 bytes the driver writes."""
    raw = bytearray()
    valid = []
    for value in values:
        if value is None:
            raw += bytes(16)
            valid.append(False)
            continue
        unscaled = arrow_decimal(decode_number(encode_number(value)), t.precision, t.scale)
        raw += unscaled.to_bytes(16, "little", signed=True)
        valid.append(True)
    mask = pa.array(valid, pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(t, len(values), [mask, pa.py_buffer(bytes(raw))])
