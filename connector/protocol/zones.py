"""Athena's packed TIMESTAMP WITH TIME ZONE values, with the Java SDK's zone index and zone-id normalization.

On the wire a TIMESTAMPMILLITZ value is ``(epoch_millis << 12) | zone_key``: the instant in UTC milliseconds
plus a 12-bit zone number from the SDK's fixed zone index (``zone_keys.txt``; UTC is 0, fixed offsets
``-14:00..+14:00`` are 1..1680 in minute steps, named zones follow). The Arrow type's ``timezone`` string
does not change the values' meaning; it only has to be a valid zone id.

Zone ids are resolved as ``TimeZoneKey.getTimeZoneKey`` does: the id case-insensitively, else its normalized
form (``utc``/``z``/``ut``/``gmt0``/``greenwich``... are UTC; ``UTC+5``, ``GMT-05:30``, ``UT+3`` are offsets;
``Etc/GMT+5`` is ``-05:00``, POSIX's inverted sign). Anything else is an error, as in Java.

A column may carry each value's own zone, as the SDK packs each ``ZonedDateTime``'s zone: an adapter adds a
companion column ``zone_column(name)`` holding zone ids (or None for the column's zone) next to the column, and
``connector.scan.conform`` packs the values with them (``pack_each``).
"""

from __future__ import annotations

from functools import cache

import pyarrow as pa

UTC_KEY = 0
_MAX_OFFSET_MINUTES = 14 * 60
_UTC_NAMES = frozenset({"utc", "z", "ut", "uct", "gmt", "gmt0", "greenwich", "universal", "zulu"})
#: Field metadata marking a logical column whose values are already packed (set by ``scan.conform``).
PACKED_KEY = b"afq.packed_zones"
_ZONE_COLUMN_PREFIX = "$zone:"


def zone_column(column: str) -> str:
    """The name of the companion column carrying the per-value zone ids of ``column``."""
    return _ZONE_COLUMN_PREFIX + column


def _zone_keys_text() -> str:
    from importlib import resources

    return resources.files("connector.protocol").joinpath("zone_keys.txt").read_text("utf-8")


@cache
def _named_keys() -> dict[str, int]:
    text = _zone_keys_text()
    keys: dict[str, int] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            number, name = line.split()
            keys[name.lower()] = int(number)
    return keys


def _offset_key(minutes: int) -> int:
    return minutes + _MAX_OFFSET_MINUTES + (1 if minutes < 0 else 0)


def _offset_minutes(text: str) -> int | None:
    """Minutes of a ``+HH:MM`` id (the only offset form the index holds), None for anything else."""
    digits = text[1:3] + text[4:]
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":" or not (digits.isascii() and digits.isdigit()):
        return None
    if int(text[4:]) >= 60:
        return None
    minutes = int(text[1:3]) * 60 + int(text[4:])
    return -minutes if text[0] == "-" else minutes


def normalize_zone_id(zone: str) -> str:
    """``TimeZoneKey.normalizeZoneId``: the lower-case id the SDK looks up when the id itself is not indexed."""
    zone_id = zone.lower()
    etc = zone_id.startswith("etc/")
    if etc:
        zone_id = zone_id[4:]
    if zone_id in _UTC_NAMES:
        return "utc"
    etc_gmt = False
    if len(zone_id) > 3 and zone_id.startswith(("utc", "gmt")):
        etc_gmt = etc and zone_id.startswith("gmt")
        zone_id = zone_id[3:]
    elif len(zone_id) > 2 and zone_id.startswith("ut"):
        zone_id = zone_id[2:]
    if zone_id in ("+00:00", "-00:00"):
        return "utc"
    if len(zone_id) == 6 and zone_id[3] == ":":
        return zone_id
    if len(zone_id) not in (2, 3) or zone_id[0] not in "+-":
        return zone
    sign = zone_id[0]
    if etc_gmt:
        sign = "+" if sign == "-" else "-"
    tens, ones = ("0", zone_id[1]) if len(zone_id) == 2 else (zone_id[1], zone_id[2])
    if not (tens.isdigit() and ones.isdigit()):  # str.isdigit accepts other scripts' digits; Java too
        return zone
    if tens == "0" and ones == "0":
        return "utc"
    return f"{sign}{tens}{ones}:00"


def zone_key(zone: str) -> int:
    """The wire key of a zone id, resolved as the SDK does; ``ValueError`` if the SDK would not know it."""
    if not zone:
        raise ValueError("the time zone id is empty")
    for candidate in (zone.lower(), normalize_zone_id(zone)):
        if candidate == "utc":
            return UTC_KEY
        minutes = _offset_minutes(candidate)
        if minutes is not None:
            if minutes == 0:
                return UTC_KEY
            if abs(minutes) > _MAX_OFFSET_MINUTES:
                break
            return _offset_key(minutes)
        key = _named_keys().get(candidate.lower())
        if key is not None:
            return key
    raise ValueError(f"time zone {zone[:64]!r} is not supported (not in Athena's zone index)")


@cache
def _keys_to_ids() -> dict[int, str]:
    text = _zone_keys_text()
    ids = {int(n): name for n, name in (line.split() for line in text.splitlines() if line and line[0] != "#")}
    for minutes in range(-_MAX_OFFSET_MINUTES, _MAX_OFFSET_MINUTES + 1):
        if minutes:
            sign = "-" if minutes < 0 else "+"
            ids[_offset_key(minutes)] = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    ids[UTC_KEY] = "UTC"
    return ids


def zone_id(key: int) -> str:
    """The zone id of a wire key (``TimeZoneKey.getTimeZoneKey(short)``); ``ValueError`` for unknown keys."""
    try:
        return _keys_to_ids()[key]
    except KeyError:
        raise ValueError(f"invalid time zone key {key}") from None


def pack(millis: pa.Array, zone: str) -> pa.Array:
    """Pack UTC epoch millis (int64) with one zone's key."""
    import pyarrow.compute as pc

    key = zone_key(zone)
    shifted = pc.shift_left(millis.cast(pa.int64()), 12)
    return pc.bit_wise_or(shifted, pa.scalar(key, pa.int64())) if key else shifted


def pack_each(millis: pa.Array, zones: pa.Array, default: str) -> pa.Array:
    """Pack each value with its own zone id (None: ``default``), as the SDK packs each ZonedDateTime's zone."""
    import pyarrow.compute as pc

    encoded = zones.cast(pa.string()).dictionary_encode()
    names = encoded.dictionary.to_pylist()
    try:
        table = pa.array([zone_key(n) for n in names], pa.int64())
    except ValueError as e:
        raise ValueError(f"a value's {e}") from None
    keys = pc.fill_null(pc.take(table, encoded.indices), pa.scalar(zone_key(default), pa.int64()))
    shifted = pc.shift_left(millis.cast(pa.int64()), 12)
    return pc.bit_wise_or(shifted, keys)


def unpack(packed: pa.Array) -> pa.Array:
    """UTC epoch millis (int64) of packed values; the zone key is dropped (the instant is what compares)."""
    import pyarrow.compute as pc

    return pc.shift_right(packed.cast(pa.int64()), 12)


def unpack_zones(packed: pa.Array) -> pa.Array:
    """The zone id of each packed value (None for nulls)."""
    import pyarrow.compute as pc

    keys = pc.bit_wise_and(packed.cast(pa.int64()), pa.scalar(0xFFF, pa.int64())).to_pylist()
    return pa.array([None if k is None else zone_id(k) for k in keys], pa.string())
