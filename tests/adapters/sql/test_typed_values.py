"""Python values -> Arrow without losing part of a value: pyarrow 26's typed conversion truncates floats and
Decimals into integer types (0.5 -> 0, even with ``safe=True``) and drops a datetime's time of day into a date.

``connector.exact_cast.array`` is what the fast paths use instead; ``adapters.sql.convert.to_arrow`` must then give
exactly what its value-by-value path gives (the oracle: ``_coercer`` on each value), or refuse what it refuses.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.sql import convert
from connector import exact_cast
from connector.errors import SourceError
from tests.support.value_paths import per_value, read


@pytest.mark.parametrize(("values", "t"), [
    ([0.5], pa.int64()), ([1, 2.5], pa.int64()), ([-2.9], pa.int8()), ([0.5], pa.uint8()),
    ([Decimal("1.5")], pa.int64()), ([Decimal("-0.1"), 3], pa.int32()),
    ([dt.datetime(2024, 1, 2, 5, 0)], pa.date32()), ([dt.date(2024, 1, 1), dt.datetime(2024, 1, 2, 0, 0, 1)],
                                                     pa.date32()),
])
def test_a_value_that_would_lose_a_part_is_refused(values: list[Any], t: pa.DataType) -> None:
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        exact_cast.array(values, t)
    with pytest.raises(SourceError, match="column 'n'"):
        convert.to_arrow(values, t, "n")


@pytest.mark.parametrize(("values", "t", "expected"), [
    ([1.0, None, -3.0], pa.int32(), [1, None, -3]), ([Decimal("2"), 7], pa.int64(), [2, 7]),
    ([True, False], pa.int8(), [1, 0]), ([None, None], pa.int16(), [None, None]),
    ([2**63 - 1], pa.int64(), [2**63 - 1]),
    ([dt.date(2024, 2, 29), None], pa.date32(), [dt.date(2024, 2, 29), None]),
])
def test_whole_values_keep_their_value(values: list[Any], t: pa.DataType, expected: list[Any]) -> None:
    assert exact_cast.array(values, t).to_pylist() == expected
    assert convert.to_arrow(values, t, "n").to_pylist() == expected


def test_the_refusal_names_the_value() -> None:
    with pytest.raises(SourceError, match=r"column 'n': value 0\.5 cannot be read as int64 \(it is not a whole"):
        convert.to_arrow([1, 0.5], pa.int64(), "n")
    with pytest.raises(SourceError, match="has a time of day"):
        convert.to_arrow([dt.datetime(2024, 1, 2, 5, 0)], pa.date32(), "n")


numbers = st.one_of(
    st.none(), st.integers(-(2**64), 2**64), st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.5, -0.5, 1.0, -0.0, 2.0**63, 2.0**53 + 1]),
    st.decimals(allow_nan=False, allow_infinity=False), st.decimals(allow_nan=False, places=1),
    st.sampled_from(["1", b"1", Decimal("2.0"), Decimal("-0")]),
)


@settings(max_examples=400, deadline=None)
@given(column=st.lists(numbers, min_size=1, max_size=6),
       t=st.sampled_from([pa.int8(), pa.int32(), pa.int64(), pa.uint16(), pa.uint64()]))
@example(column=[1, 0.5], t=pa.int64())
@example(column=[Decimal("1.5")], t=pa.int64())
def test_integers_read_as_the_per_value_path_reads_them(column: list[Any], t: pa.DataType) -> None:
    fast, slow = read(column, t), per_value(column, t)
    assert (fast is None) == (slow is None), (column, t, fast, slow)
    assert fast is None or (slow is not None and fast.equals(slow))


moments = st.one_of(st.none(), st.dates(), st.datetimes(), st.sampled_from(["2024-01-02", b"2024-01-02", 20240102]))


@settings(max_examples=300, deadline=None)
@given(column=st.lists(moments, min_size=1, max_size=6))
@example(column=[dt.datetime(2024, 1, 2, 5, 0)])
@example(column=[b"2024-01-02"])
def test_dates_read_as_the_per_value_path_reads_them(column: list[Any]) -> None:
    fast, slow = read(column, pa.date32()), per_value(column, pa.date32())
    assert (fast is None) == (slow is None), (column, fast, slow)
    assert fast is None or (slow is not None and fast.equals(slow))


instants = st.one_of(st.none(), st.datetimes(), st.datetimes(timezones=st.timezones()), st.dates(),
                     st.sampled_from(["2024-01-02 10:11:12", 1_700_000_000, 0, 1.5]))


@settings(max_examples=300, deadline=None)
@given(column=st.lists(instants, min_size=1, max_size=6),
       t=st.sampled_from([pa.timestamp("ms"), pa.timestamp("ms", "UTC"), pa.timestamp("us")]))
@example(column=[1_700_000_000], t=pa.timestamp("ms"))  # Unix seconds: not milliseconds since the epoch
@example(column=[dt.datetime(1, 1, 1, tzinfo=ZoneInfo("Arctic/Longyearbyen"))], t=pa.timestamp("ms"))  # year 0 UTC
def test_timestamps_read_as_the_per_value_path_reads_them(column: list[Any], t: pa.DataType) -> None:
    fast, slow = read(column, t), per_value(column, t)
    assert (fast is None) == (slow is None), (column, fast, slow)
    assert fast is None or (slow is not None and fast.equals(slow))
