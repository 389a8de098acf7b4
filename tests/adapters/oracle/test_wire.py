"""Oracle as the server and python-oracledb behave, where neither can be driven here.

The driver's NUMBER decoding and Arrow decimal conversion are compiled without a Python entry point, so
``tests/support/oracle_wire.py`` ports them from the driver's source (see its docstring). These tests pin the port to
Oracle's documented byte format and show what the driver does with the values an unconstrained NUMBER holds - which
is why the adapter never asks the driver for a decimal when the column's precision is unknown.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import oracledb
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.oracle.adapter import python_value
from adapters.oracle.dialect import fetch_type
from connector.pushdown.sql import SourceColumn
from tests.support.oracle_wire import DriverDecimalError, arrow_decimal, decimal_array, decode_number, encode_number


@pytest.mark.parametrize(("value", "dump"), [
    # Oracle's SELECT DUMP(n) (Typ=2), as the SQL Reference documents the internal NUMBER format.
    ("0", [128]), ("1", [193, 2]), ("100", [194, 2]), ("-1", [62, 100, 102]), ("0.5", [192, 51]),
    ("123.456", [194, 2, 24, 46, 61]), ("-123.456", [61, 100, 78, 56, 41, 102]),
])
def test_number_bytes_are_oracles(value: str, dump: list[int]) -> None:
    assert list(encode_number(Decimal(value))) == dump
    assert Decimal(decode_number(bytes(dump))) == Decimal(value)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: d.is_zero() or (len(d.as_tuple().digits) <= 38 and -120 < d.adjusted() < 120)))
def test_decoding_undoes_encoding(value: Decimal) -> None:
    assert Decimal(decode_number(encode_number(value))) == value


def test_the_drivers_decimal_conversion_wraps_or_fails_where_unconstrained_numbers_live() -> None:
    """What ``fetch_df_batches`` does with decimal(38, 10), the type an unconstrained NUMBER maps to: 29-38
    integer digits pass its digit check and wrap modulo 2^128 (2E28 -> -1.40E28); more than 10 decimals raise
    DPY-4042 and fail the whole query."""
    t = pa.decimal128(38, 10)
    assert decimal_array([Decimal("2E28")], t).to_pylist() == [Decimal("-14028236692093846346337460743.1768211456")]
    wrapped = decimal_array([Decimal("12345678901234567890123456789012345678")], t).to_pylist()[0]
    assert wrapped != Decimal("12345678901234567890123456789012345678")
    with pytest.raises(DriverDecimalError, match="DPY-4042"):
        arrow_decimal(decode_number(encode_number(Decimal("1.00000000001"))), 38, 10)
    assert decimal_array([Decimal("1234567890123456789012345678.123456789")], t).to_pylist() == [
        Decimal("1234567890123456789012345678.1234567890")]  # 28 integer digits: fits
    # So the adapter never requests a decimal for such a column: it selects Oracle's text of the value.
    assert fetch_type(SourceColumn("r", "R", t, "NUMBER")) == pa.large_string()
    assert fetch_type(SourceColumn("a", "A", pa.decimal128(38, 10), "NUMBER(38,10)")) == pa.decimal128(38, 10)


class _Type:
    def __init__(self, name: str, collection: bool) -> None:
        self.name, self.iscollection = name, collection


class _Object:
    """Shaped as python-oracledb's DbObject (checked against the real class below)."""

    def __init__(self, name: str, value: Any) -> None:
        self.type = _Type(name, isinstance(value, list))
        self._value = value

    def asdict(self) -> dict[str, Any]:
        assert isinstance(self._value, dict)
        return self._value

    def aslist(self) -> list[Any]:
        assert isinstance(self._value, list)
        return self._value


class _Bfile:
    def getfilename(self) -> tuple[str, str]:
        return "DATA_DIR", "scan.pdf"


def test_object_types_and_bfiles_are_text_not_a_python_repr() -> None:
    """Item 9. SDO_GEOMETRY and other object types arrive as DbObject (DB-API), BFILE as a LOB locator."""
    for cls, names in ((oracledb.DbObject, ("asdict", "aslist", "type")), (oracledb.DbObjectType, ("iscollection",)),
                       (oracledb.LOB, ("getfilename",))):
        assert all(hasattr(cls, n) for n in names), cls
    geometry = _Object("MDSYS.SDO_GEOMETRY", {
        "SDO_GTYPE": Decimal(2001), "SDO_SRID": Decimal(4326),
        "SDO_POINT": _Object("MDSYS.SDO_POINT_TYPE", {"X": Decimal("12.5"), "Y": Decimal("-3"), "Z": None}),
        "SDO_ELEM_INFO": None, "SDO_ORDINATES": _Object("MDSYS.SDO_ORDINATE_ARRAY", [Decimal(1), Decimal("2.25")])})
    text = python_value(geometry, pa.string())
    assert json.loads(text) == {"SDO_GTYPE": 2001, "SDO_SRID": 4326, "SDO_POINT": {"X": "12.5", "Y": -3, "Z": None},
                                "SDO_ELEM_INFO": None, "SDO_ORDINATES": [1, "2.25"]}
    assert python_value(_Bfile(), pa.string()) == "BFILENAME('DATA_DIR', 'scan.pdf')"
    assert "object at 0x" not in text
