"""Zone ids and keys as the Java SDK's TimeZoneKey (a3be8aa2) resolves them, and per-value zones on the wire."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pytest

from connector.adapter import Adapter, RequestContext, Scan, TableDefinition, TablePage
from connector.config import Settings
from connector.errors import SourceError
from connector.protocol import (
    Constraints,
    Identity,
    ReadRecordsRequest,
    SchemaMessage,
    Split,
    TableName,
    parse_response,
    zones,
)
from connector.protocol.constraints import Bound, Marker, Range, SortedRangeSet
from connector.service import FederationService
from spill.locations import new_spill_location

NEW_YORK = 1847  # America/New_York in the SDK's index (spec §3.4 example)


@pytest.mark.parametrize(("zone", "key"), [
    # UTC and its aliases, in any case and under Etc/
    ("UTC", 0), ("utc", 0), ("Z", 0), ("UT", 0), ("UCT", 0), ("GMT", 0), ("GMT0", 0), ("Greenwich", 0),
    ("Universal", 0), ("Zulu", 0), ("Etc/UTC", 0), ("etc/gmt", 0), ("Etc/Greenwich", 0), ("+00:00", 0),
    ("-00:00", 0), ("UTC+00:00", 0), ("GMT-0", 0), ("Etc/GMT+0", 0), ("UT+00", 0),
    # fixed offsets: the index holds +HH:MM; UTC/GMT/UT prefixes and +H / +HH forms normalize to it
    ("-14:00", 1), ("-00:01", 840), ("+00:01", 841), ("+14:00", 1680), ("+05:30", 1170),
    ("UTC+5", 1140), ("utc+05", 1140), ("GMT-05:30", 511), ("UT+3", 1020), ("GMT+14", 1680),
    # Etc/GMT±H has POSIX's inverted sign
    ("Etc/GMT+5", 541), ("Etc/GMT-5", 1140), ("Etc/GMT-14", 1680),
    # named zones, case-insensitively; the SDK's index has US/Pacific-New
    ("America/New_York", NEW_YORK), ("america/new_york", NEW_YORK), ("AMERICA/NEW_YORK", NEW_YORK),
    ("Africa/Abidjan", 1681), ("Europe/Berlin", 2054), ("US/Pacific-New", 2174),
])
def test_zone_ids_resolve_to_the_sdks_keys(zone: str, key: int) -> None:
    assert zones.zone_key(zone) == key


@pytest.mark.parametrize("zone", [
    "Mars/Olympus", "", "+0530", "+05:60", "+14:01", "-14:30", "UTC+15", "Etc/GMT+15", "GMT+5:30", "+5:30",
    "America/Nuuk", "Asia/Qostanay",  # newer tzdata ids the SDK's index does not have
    "UTC+\u0665", "+\u0660\u0665:00",  # digits of other scripts: Java's lookup finds no such id either
])
def test_ids_the_sdk_rejects_are_rejected(zone: str) -> None:
    with pytest.raises(ValueError, match=r"not supported|empty"):
        zones.zone_key(zone)


def test_keys_map_back_to_their_ids() -> None:
    assert zones.zone_id(0) == "UTC" and zones.zone_id(1170) == "+05:30" and zones.zone_id(1) == "-14:00"
    assert zones.zone_id(NEW_YORK) == "America/New_York" and zones.zone_id(2174) == "US/Pacific-New"
    for key in (1, 840, 841, 1680, 1681, NEW_YORK, 2174):
        assert zones.zone_key(zones.zone_id(key)) == key
    with pytest.raises(ValueError, match="invalid time zone key"):
        zones.zone_id(4095)


def test_the_column_zone_may_be_any_id_the_sdk_accepts() -> None:
    for zone in ("utc", "Etc/GMT+5", "UTC+5", "america/new_york"):
        schema = pa.schema([("ts", pa.timestamp("ms", zone))])
        message = SchemaMessage.of_logical(schema)
        assert message.logical_schema() == schema


# ------------------------------------------------------------------------------------------ per-value zones

SCHEMA = pa.schema([("id", pa.int64()), ("at", pa.timestamp("ms", "UTC"))])
TABLE = TableName("s", "t")
INSTANTS = [dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC), dt.datetime(2024, 7, 1, 12, tzinfo=dt.UTC), None,
            dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=dt.UTC)]
ZONES = ["America/New_York", "+05:30", None, None]


class ZonedSource(Adapter):
    """A source whose TIMESTAMP WITH TIME ZONE values each keep their own zone (Oracle TSTZ, H2, Snowflake TZ)."""

    source_type = "zoned"

    def __init__(self, zone_ids: Sequence[str | None] = ZONES) -> None:
        self.zone_ids = zone_ids

    def list_schemas(self, ctx: RequestContext) -> Sequence[str]:
        return ["s"]

    def list_tables(self, ctx: RequestContext, schema: str, next_token: str | None, page_size: int) -> TablePage:
        return TablePage([TABLE])

    def get_table(self, ctx: RequestContext, table: TableName) -> TableDefinition:
        return TableDefinition(SCHEMA)

    def read_split(self, ctx: RequestContext, table: TableName, schema: pa.Schema, split: Split,
                   constraints: Constraints) -> Scan:
        def batches() -> Iterator[pa.RecordBatch]:
            yield pa.record_batch({"id": pa.array(range(len(INSTANTS)), pa.int64()),
                                   "at": pa.array(INSTANTS, pa.timestamp("ms", "UTC")),
                                   zones.zone_column("at"): pa.array(self.zone_ids, pa.string())})
        return Scan(batches(), residual=constraints)


def _read(tmp_path: Path, adapter: Adapter, constraints: Constraints | None = None) -> pa.RecordBatch:
    settings = Settings.from_env({"AFQ_LOCAL_SPILL_DIR": str(tmp_path)})
    request = ReadRecordsRequest(Identity(), "q", "cat", TABLE, SchemaMessage.of_logical(SCHEMA),
                                 Split(new_spill_location(settings, "q"), None, {}), constraints or Constraints(),
                                 1_000_000, 100_000)
    service = FederationService(settings, adapters=lambda _: adapter)
    response = parse_response(service.handle(request.to_wire()))
    return response.records.wire_batch()  # type: ignore[no-any-return]


def test_each_value_travels_with_its_own_zone(tmp_path: Path) -> None:
    wire = _read(tmp_path, ZonedSource())
    packed = wire.column("at").view(pa.int64())
    assert zones.unpack_zones(packed).to_pylist() == ["America/New_York", "+05:30", None, "UTC"]
    expected = [None if t is None else int(t.timestamp() * 1000) for t in INSTANTS]
    assert zones.unpack(packed).to_pylist() == expected
    assert packed.to_pylist()[0] == (expected[0] << 12) | NEW_YORK  # the SDK's packing, bit for bit


def test_residual_filters_see_instants_not_packed_values(tmp_path: Path) -> None:
    start = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    after = SortedRangeSet(pa.timestamp("ms", "UTC"), (Range(Marker(start, Bound.EXACTLY), Marker.above_all()),), False)
    wire = _read(tmp_path, ZonedSource(), Constraints(summary={"at": after}))
    assert wire.column("id").to_pylist() == [1]
    assert zones.unpack_zones(wire.column("at").view(pa.int64())).to_pylist() == ["+05:30"]


def test_a_value_zone_athena_does_not_know_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"column 'at'.*Mars/Olympus"):
        _read(tmp_path, ZonedSource(["Mars/Olympus", None, None, None]))
