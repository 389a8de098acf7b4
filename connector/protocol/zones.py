"""Athena's packed TIMESTAMP WITH TIME ZONE values.

On the wire a TIMESTAMPMILLITZ value is ``(epoch_millis << 12) | zone_key``: the instant in UTC milliseconds
plus a 12-bit zone number from Trino's fixed zone index (``zone_keys.txt``; UTC is 0, fixed offsets
``-14:00..+14:00`` are 1..1680 in minute steps, named zones follow). The Arrow type's ``timezone`` string
does not change the values' meaning; it only has to be a valid zone id.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import pyarrow as pa
import pyarrow.compute as pc

UTC_KEY = 0
_MAX_OFFSET_MINUTES = 14 * 60
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$")


@cache
def _named_keys() -> dict[str, int]:
    text = resources.files("connector.protocol").joinpath("zone_keys.txt").read_text("utf-8")
    keys: dict[str, int] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            number, name = line.split()
            keys[name] = int(number)
    return keys


def zone_key(zone: str) -> int:
    """The wire key of a zone id or offset; ``ValueError`` if Athena would not know the zone."""
    if zone in ("UTC", "Z", "GMT", "UCT", "Etc/UTC", "Etc/GMT", "Zulu", "Universal", "Etc/UCT"):
        return UTC_KEY
    match = _OFFSET.match(zone)
    if match:
        sign, hours, minutes = match.groups()
        total = int(hours) * 60 + int(minutes or 0)
        if total == 0:
            return UTC_KEY
        if total > _MAX_OFFSET_MINUTES:
            raise ValueError(f"time zone offset {zone!r} is outside -14:00..+14:00")
        signed = -total if sign == "-" else total
        return signed + _MAX_OFFSET_MINUTES + (1 if signed < 0 else 0)
    try:
        return _named_keys()[zone]
    except KeyError:
        raise ValueError(f"time zone {zone!r} is not in Athena's zone index") from None


def pack(millis: pa.Array, zone: str) -> pa.Array:
    """Pack UTC epoch millis (int64) with one zone's key."""
    key = zone_key(zone)
    shifted = pc.shift_left(millis.cast(pa.int64()), 12)
    return pc.bit_wise_or(shifted, pa.scalar(key, pa.int64())) if key else shifted


def unpack(packed: pa.Array) -> pa.Array:
    """UTC epoch millis (int64) of packed values; the zone key is dropped (the instant is what compares)."""
    return pc.shift_right(packed.cast(pa.int64()), 12)
