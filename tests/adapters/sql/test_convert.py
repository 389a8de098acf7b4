"""Driver values -> Arrow: the whole-column path (Arrow's parser) must give exactly what value-by-value gives.

``adapters.sql.convert.to_arrow`` lets Arrow convert a whole column of ISO text (timestamps, dates) or 0/1 integers
(booleans) when it accepts every value; otherwise each value goes through the strict slow path. Both must agree
on every input: the same array, or the same kind of error.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sql import convert
from connector.errors import SourceError

TIMESTAMP = pa.timestamp("ms")


def _slow(values: list[Any], t: pa.DataType, monkeypatch: pytest.MonkeyPatch) -> pa.Array | str:
    with monkeypatch.context() as m:
        m.setattr(convert, "_whole_column", lambda _values, _t: None)
        try:
            return convert.to_arrow(values, t, "c")
        except SourceError:
            return "error"


def _fast(values: list[Any], t: pa.DataType) -> pa.Array | str:
    try:
        return convert.to_arrow(values, t, "c")
    except SourceError:
        return "error"


def _same(a: pa.Array | str, b: pa.Array | str) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a.type == b.type and a.equals(b)


datetimes = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59))


@st.composite
def timestamp_texts(draw: st.DrawFn) -> str:
    """ISO-ish text as drivers write it, plus the variants Arrow must refuse or read like Python."""
    value = draw(datetimes)
    separator = draw(st.sampled_from([" ", "T"]))
    text = value.isoformat(sep=separator, timespec=draw(st.sampled_from(
        ["hours", "minutes", "seconds", "milliseconds", "microseconds"])))
    return draw(st.sampled_from([
        text, value.date().isoformat(), text + "Z", text + "+02:00", text + "-05:30", f" {text}", f"{text} ",
        text.replace("-", ""), text + ".", text[:-1], "", "not a time", text.replace("T", "t"),
    ]))


@st.composite
def date_texts(draw: st.DrawFn) -> str:
    value = draw(st.dates())
    text = value.isoformat()
    return draw(st.sampled_from([text, text.replace("-", ""), f" {text}", text + " 00:00:00", text + "T00:00",
                                 text[:-1], "2024-02-30", "", "x"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), timestamp_texts()), min_size=1, max_size=8))
def test_timestamp_text_same_either_way(values: list[Any]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _same(_fast(values, TIMESTAMP), _slow(values, TIMESTAMP, monkeypatch))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), date_texts()), min_size=1, max_size=8))
def test_date_text_same_either_way(values: list[Any]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _same(_fast(values, pa.date32()), _slow(values, pa.date32(), monkeypatch))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-3, 3), st.booleans(), st.sampled_from(["1", "true", 0.0, 1.0])),
                min_size=1, max_size=8))
def test_boolean_same_either_way(values: list[Any]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _same(_fast(values, pa.bool_()), _slow(values, pa.bool_(), monkeypatch))


def test_whole_column_path_is_taken_for_sqlite_shapes() -> None:
    """The shapes SQLite returns are converted by Arrow (so the benchmark measures the fast path)."""
    assert convert._whole_column(["2024-01-01 10:00:00.123", None], TIMESTAMP).to_pylist() == [
        dt.datetime(2024, 1, 1, 10, 0, 0, 123000), None]
    assert convert._whole_column(["2024-01-01"], pa.date32()).to_pylist() == [dt.date(2024, 1, 1)]
    assert convert._whole_column([0, 1, None], pa.bool_()).to_pylist() == [False, True, None]
    assert convert._whole_column([0, 2], pa.bool_()) is None  # 2 is not a boolean: the slow path says why
    assert convert._whole_column(["2024-01-01 10:00:00+02:00"], TIMESTAMP) is None  # offsets: slow path


def test_values_the_slow_path_refuses_are_still_refused() -> None:
    with pytest.raises(SourceError, match="column 'c'"):
        convert.to_arrow([0, 2], pa.bool_(), "c")
    with pytest.raises(SourceError, match="column 'c'"):
        convert.to_arrow(["2024-13-01"], pa.date32(), "c")


def test_decimal_38_digits_read_exactly() -> None:
    """Issue 16: Python's default 28-digit context could not quantize 10**18 to DECIMAL(38,10)."""
    wide = pa.decimal128(38, 10)
    values = [10**18, Decimal("1234567890123456789012345678.0123456789"), 0.5, -(10**27), None]
    assert convert.to_arrow(values, wide, "v").to_pylist() == [
        Decimal("1000000000000000000.0000000000"), Decimal("1234567890123456789012345678.0123456789"),
        Decimal("0.5000000000"), Decimal(-(10**27)).scaleb(0), None]
    with pytest.raises(SourceError, match="more than 38 digits"):
        convert.to_arrow([10**28], wide, "v")
    with pytest.raises(SourceError, match="decimal places"):
        convert.to_arrow([Decimal("0.00000000005")], wide, "v")
    with pytest.raises(SourceError, match="finite"):
        convert.to_arrow([Decimal("NaN")], wide, "v")


@pytest.mark.parametrize(("precision", "scale", "expected"), [
    (5, -2, pa.decimal128(7, 0)),  # NUMERIC(5,-2) stores whole hundreds up to 9999900
    (3, 5, pa.decimal128(5, 5)),  # NUMERIC(3,5) stores 0.00123
    (38, -3, pa.decimal128(38, 0)),
    (10, 2, pa.decimal128(10, 2)),
])
def test_negative_and_large_scales_keep_every_value(precision: int, scale: int, expected: pa.DataType) -> None:
    from adapters.sql.types import decimal

    assert decimal(precision, scale) == expected
