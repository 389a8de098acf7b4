"""Arrow types on the wire: the JSON form used in constraints, the supported set, and wire <-> logical.

Athena's federation protocol gives two Arrow types an unusual meaning:

* ``date64`` (the SDK's DATEMILLI) carries Athena TIMESTAMP values: epoch milliseconds of a wall-clock time,
  not a day. Tools that read Arrow (DuckDB, pandas) would truncate it to a date.
* ``timestamp[ms, tz]`` (TIMESTAMPMILLITZ) carries *packed* values, see ``zones.py``.

Adapters, evaluators and the local Athena therefore work on *logical* types - ``timestamp[ms]`` for
TIMESTAMP and unpacked ``timestamp[ms, tz]`` for TIMESTAMP WITH TIME ZONE - and only the codec that reads and
writes blocks converts to and from the wire form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa

from connector.protocol import zones
from connector.protocol.errors import ProtocolError
from connector.protocol.fields import get_bool, get_int, get_opt_str, get_str

MAX_DECIMAL_PRECISION = 38

# ---------------------------------------------------------------------------------------------- JSON form

_UNITS = {"s": "SECOND", "ms": "MILLISECOND", "us": "MICROSECOND", "ns": "NANOSECOND"}
_UNITS_BACK = {v: k for k, v in _UNITS.items()}
_FLOATS = {"HALF": pa.float16(), "SINGLE": pa.float32(), "DOUBLE": pa.float64()}


def type_from_json(obj: Mapping[str, Any], path: str) -> pa.DataType:
    """Read an ``ArrowType`` JSON object (``{"@type":"Int","bitWidth":32,"isSigned":true}``).

    Nested types carry no children on the wire; they come back with placeholder children.
    """
    kind = get_str(obj, "@type", path)
    if kind == "Int":
        width = get_int(obj, "bitWidth", path)
        signed = get_bool(obj, "isSigned", path, True)
        ints = {8: (pa.int8(), pa.uint8()), 16: (pa.int16(), pa.uint16()),
                32: (pa.int32(), pa.uint32()), 64: (pa.int64(), pa.uint64())}
        if width not in ints:
            raise ProtocolError(path + ".bitWidth", f"unsupported integer width {width}")
        return ints[width][0 if signed else 1]
    if kind == "FloatingPoint":
        precision = get_str(obj, "precision", path)
        if precision not in _FLOATS:
            raise ProtocolError(path + ".precision", f"unknown floating point precision {precision!r}")
        return _FLOATS[precision]
    if kind == "Decimal":
        digits, scale = get_int(obj, "precision", path), get_int(obj, "scale", path)
        if not 1 <= digits <= MAX_DECIMAL_PRECISION or not 0 <= scale <= digits:
            raise ProtocolError(path, f"invalid decimal({digits},{scale})")
        return pa.decimal128(digits, scale)
    if kind == "Date":
        unit = get_str(obj, "unit", path)
        if unit not in ("DAY", "MILLISECOND"):
            raise ProtocolError(path + ".unit", f"unknown date unit {unit!r}")
        return pa.date32() if unit == "DAY" else pa.date64()
    if kind == "Timestamp":
        unit = get_str(obj, "unit", path)
        if unit not in _UNITS_BACK:
            raise ProtocolError(path + ".unit", f"unknown time unit {unit!r}")
        return pa.timestamp(_UNITS_BACK[unit], get_opt_str(obj, "timezone", path))
    if kind == "Time":
        unit = get_str(obj, "unit", path)
        if unit not in _UNITS_BACK:
            raise ProtocolError(path + ".unit", f"unknown time unit {unit!r}")
        return pa.time32(_UNITS_BACK[unit]) if unit in ("SECOND", "MILLISECOND") else pa.time64(_UNITS_BACK[unit])
    if kind == "Interval":
        unit = get_str(obj, "unit", path)
        intervals = {"MONTH_DAY_NANO": pa.month_day_nano_interval()}
        if unit not in intervals:
            raise ProtocolError(path + ".unit", f"unsupported interval unit {unit!r}")
        return intervals[unit]
    if kind == "FixedSizeBinary":
        return pa.binary(get_int(obj, "byteWidth", path))
    if kind == "FixedSizeList":
        return pa.list_(pa.null(), get_int(obj, "listSize", path))
    simple = {"Bool": pa.bool_(), "Utf8": pa.string(), "Binary": pa.binary(), "Null": pa.null(),
              "List": pa.list_(pa.null()), "Struct": pa.struct([]), "Map": pa.map_(pa.string(), pa.null())}
    if kind in simple:
        return simple[kind]
    raise ProtocolError(path + ".@type", f"unknown Arrow type {kind!r}")


def type_to_json(t: pa.DataType) -> dict[str, Any]:
    """The ``ArrowType`` JSON object of a (wire) type, keys in the Java SerDe's order."""
    if pa.types.is_boolean(t):
        return {"@type": "Bool"}
    if pa.types.is_integer(t):
        return {"@type": "Int", "bitWidth": t.bit_width, "isSigned": pa.types.is_signed_integer(t)}
    if pa.types.is_floating(t):
        precision = {16: "HALF", 32: "SINGLE", 64: "DOUBLE"}[t.bit_width]
        return {"@type": "FloatingPoint", "precision": precision}
    if pa.types.is_string(t):
        return {"@type": "Utf8"}
    if pa.types.is_fixed_size_binary(t):
        return {"@type": "FixedSizeBinary", "byteWidth": t.byte_width}
    if pa.types.is_binary(t):
        return {"@type": "Binary"}
    if pa.types.is_decimal(t):
        return {"@type": "Decimal", "precision": t.precision, "scale": t.scale}
    if pa.types.is_date32(t):
        return {"@type": "Date", "unit": "DAY"}
    if pa.types.is_date64(t):
        return {"@type": "Date", "unit": "MILLISECOND"}
    if pa.types.is_timestamp(t):
        return {"@type": "Timestamp", "unit": _UNITS[t.unit], "timezone": t.tz}
    if pa.types.is_time(t):
        return {"@type": "Time", "unit": _UNITS[t.unit], "bitWidth": t.bit_width}
    if pa.types.is_fixed_size_list(t):
        return {"@type": "FixedSizeList", "listSize": t.list_size}
    if pa.types.is_map(t):
        return {"@type": "Map"}
    if pa.types.is_list(t):
        return {"@type": "List"}
    if pa.types.is_struct(t):
        return {"@type": "Struct"}
    if pa.types.is_null(t):
        return {"@type": "Null"}
    raise ValueError(f"Arrow type {t} has no federation JSON form")


# ------------------------------------------------------------------------------------- supported types

def unsupported_reason(t: pa.DataType, *, logical: bool) -> str | None:
    """Why Athena cannot take this type, or None if it can (checked recursively like the SDK does)."""
    if pa.types.is_boolean(t) or pa.types.is_signed_integer(t) or pa.types.is_string(t):
        return None
    if pa.types.is_floating(t):
        return "half-precision floats are not supported" if t.bit_width == 16 else None
    if pa.types.is_binary(t) or pa.types.is_date32(t):
        return None
    if pa.types.is_decimal(t):
        ok = isinstance(t, pa.Decimal128Type) and t.precision <= MAX_DECIMAL_PRECISION
        return None if ok else "only decimal128 with precision <= 38 is supported"
    if pa.types.is_date64(t):
        return "use timestamp[ms] for TIMESTAMP (date64 is its wire form)" if logical else None
    if pa.types.is_timestamp(t):
        if t.tz is None:
            if logical and t.unit == "ms":
                return None
            return "timestamps without a time zone must be timestamp[ms]" if logical else (
                "timestamps without a time zone travel as date64")
        if t.unit not in ("ms", "us"):
            return "timestamps with a time zone must have unit ms or us"
        try:
            zones.zone_key(t.tz)
        except ValueError as e:
            return str(e)
        return None
    if pa.types.is_list(t) and not pa.types.is_fixed_size_list(t) and not pa.types.is_large_list(t):
        return unsupported_reason(t.value_type, logical=logical)
    if pa.types.is_map(t):
        return unsupported_reason(t.key_type, logical=logical) or unsupported_reason(
            t.item_type, logical=logical)
    if pa.types.is_struct(t):
        for i in range(t.num_fields):
            reason = unsupported_reason(t.field(i).type, logical=logical)
            if reason:
                return f"struct field {t.field(i).name!r}: {reason}"
        return None
    return f"Athena federation does not support Arrow type {t}"


def check_supported(schema: pa.Schema, *, logical: bool, what: str) -> None:
    for field in schema:
        reason = unsupported_reason(field.type, logical=logical)
        if reason:
            raise TypeError(f"{what}: column {field.name!r} has type {field.type}: {reason}")


# --------------------------------------------------------------------------------- wire <-> logical

def map_type(t: pa.DataType, leaf: Callable[[pa.DataType], pa.DataType]) -> pa.DataType:
    """``t`` with ``leaf`` applied to every non-nested type inside lists, maps and structs."""
    if pa.types.is_list(t) and not pa.types.is_fixed_size_list(t):
        return pa.list_(t.value_field.with_type(map_type(t.value_type, leaf)))
    if pa.types.is_map(t):
        return pa.map_(t.key_field.with_type(map_type(t.key_type, leaf)),
                       t.item_field.with_type(map_type(t.item_type, leaf)))
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(map_type(t.field(i).type, leaf)) for i in range(t.num_fields)])
    return leaf(t)


def to_logical_type(t: pa.DataType) -> pa.DataType:
    return map_type(t, lambda leaf: pa.timestamp("ms") if pa.types.is_date64(leaf) else leaf)


def to_wire_type(t: pa.DataType) -> pa.DataType:
    return map_type(t, lambda leaf: pa.date64() if pa.types.is_timestamp(leaf) and leaf.tz is None else leaf)


def _convert_schema(schema: pa.Schema, convert: Any) -> pa.Schema:
    fields = [f.with_type(convert(f.type)) for f in schema]
    return pa.schema(fields, metadata=schema.metadata)


def to_logical_schema(schema: pa.Schema) -> pa.Schema:
    return _convert_schema(schema, to_logical_type)


def to_wire_schema(schema: pa.Schema) -> pa.Schema:
    return _convert_schema(schema, to_wire_type)


def _is_packed(t: pa.DataType) -> bool:
    return pa.types.is_timestamp(t) and t.tz is not None and t.unit == "ms"


def _needs_conversion(t: pa.DataType) -> bool:
    if pa.types.is_date64(t) or _is_packed(t) or (pa.types.is_timestamp(t) and t.tz is None):
        return True
    if pa.types.is_list(t) and not pa.types.is_fixed_size_list(t):
        return _needs_conversion(t.value_type)
    if pa.types.is_map(t):
        return _needs_conversion(t.key_type) or _needs_conversion(t.item_type)
    if pa.types.is_struct(t):
        return any(_needs_conversion(t.field(i).type) for i in range(t.num_fields))
    return False


def _rebuild(array: pa.Array, target: pa.DataType, leaf: Any) -> pa.Array:
    """Apply ``leaf`` to the timestamp-like leaves of a (possibly nested) array."""
    if isinstance(array, pa.ChunkedArray):
        return pa.chunked_array([_rebuild(c, target, leaf) for c in array.chunks], type=target)
    t = array.type
    if not _needs_conversion(t):
        return array
    if pa.types.is_map(t):
        offsets = array.offsets
        keys = _rebuild(array.keys, target.key_type, leaf)
        items = _rebuild(array.items, target.item_type, leaf)
        return pa.MapArray.from_arrays(offsets, keys, items, type=target, mask=_mask(array))
    if pa.types.is_list(t):
        values = _rebuild(array.values, target.value_type, leaf)
        return pa.ListArray.from_arrays(array.offsets, values, type=target, mask=_mask(array))
    if pa.types.is_struct(t):
        children = [_rebuild(array.field(i), target.field(i).type, leaf) for i in range(t.num_fields)]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=_mask(array))
    result: pa.Array = leaf(array, target)
    return result


def _mask(array: pa.Array) -> pa.Array | None:
    if not array.null_count:
        return None
    import pyarrow.compute as pc

    return pc.is_null(array)


def _leaf_to_wire(array: pa.Array, target: pa.DataType) -> pa.Array:
    t = array.type
    if pa.types.is_timestamp(t) and t.tz is None:
        if t.unit == "ms":  # the same 64-bit milliseconds: a new type on the same buffers
            return array.view(pa.date64())
        import pyarrow.compute as pc

        millis = pc.floor_temporal(array, unit="millisecond").cast(pa.timestamp("ms"))
        return millis.cast(pa.int64()).view(pa.date64())
    if _is_packed(t):
        packed = zones.pack(array.cast(pa.int64()), t.tz)
        return packed.view(target)
    return array


def _leaf_to_logical(array: pa.Array, target: pa.DataType) -> pa.Array:
    t = array.type
    if pa.types.is_date64(t):
        return array.view(pa.int64()).view(pa.timestamp("ms"))
    if _is_packed(t):
        return zones.unpack(array.view(pa.int64())).view(t)
    return array


def batch_to_wire(batch: pa.RecordBatch, wire_schema: pa.Schema) -> pa.RecordBatch:
    """Convert a logical batch to the wire form of ``wire_schema`` (same column order and names)."""
    columns = []
    for source, field, column in zip(batch.schema, wire_schema, batch.columns, strict=True):
        if source.metadata and source.metadata.get(zones.PACKED_KEY):  # packed per value by scan.conform
            columns.append(column.view(field.type))
            continue
        columns.append(_rebuild(column, field.type, _leaf_to_wire) if _needs_conversion(column.type) else column)
    return pa.RecordBatch.from_arrays(columns, schema=wire_schema) if columns else _empty_batch(
        batch.num_rows, wire_schema)


def batch_to_logical(batch: pa.RecordBatch) -> pa.RecordBatch:
    logical = to_logical_schema(batch.schema)
    columns = [_rebuild(c, f.type, _leaf_to_logical) if _needs_conversion(c.type) else c
               for c, f in zip(batch.columns, logical, strict=True)]
    return pa.RecordBatch.from_arrays(columns, schema=logical) if columns else _empty_batch(
        batch.num_rows, logical)


def _empty_batch(num_rows: int, schema: pa.Schema) -> pa.RecordBatch:
    """A batch with no columns but ``num_rows`` rows (``SELECT count(*)`` reads these).

    Built from buffers, so its cost does not depend on ``num_rows``: a message may claim any row count.
    """
    rows = pa.Array.from_buffers(pa.struct([]), num_rows, [None], children=[])
    return pa.RecordBatch.from_struct_array(rows).replace_schema_metadata(schema.metadata)


def empty_batch(num_rows: int, schema: pa.Schema | None = None) -> pa.RecordBatch:
    return _empty_batch(num_rows, schema or pa.schema([]))


# ------------------------------------------------------------------------------------ Athena type names

def athena_type_name(t: pa.DataType) -> str:
    """The Athena SQL name of a logical type (for docs, ``--explain`` and error messages)."""
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return {8: "tinyint", 16: "smallint", 32: "integer", 64: "bigint"}[t.bit_width]
    if pa.types.is_floating(t):
        return "real" if t.bit_width == 32 else "double"
    if pa.types.is_string(t):
        return "varchar"
    if pa.types.is_binary(t):
        return "varbinary"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_date32(t):
        return "date"
    if pa.types.is_date64(t):
        return "timestamp"
    if pa.types.is_timestamp(t):
        return "timestamp with time zone" if t.tz else "timestamp"
    if pa.types.is_map(t):
        return f"map({athena_type_name(t.key_type)}, {athena_type_name(t.item_type)})"
    if pa.types.is_list(t):
        return f"array({athena_type_name(t.value_type)})"
    if pa.types.is_struct(t):
        inner = ", ".join(f"{t.field(i).name} {athena_type_name(t.field(i).type)}" for i in range(t.num_fields))
        return f"row({inner})"
    return str(t)
