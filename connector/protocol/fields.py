"""Typed access to fields of a parsed JSON object, with errors that name the field.

Requests are read by key name, never by position, so any serde version's shape (v2 to v6) is accepted as
long as the keys it carries have the right kinds of values.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from connector.protocol.errors import ProtocolError

_MISSING: Any = object()


def b64decode(text: str, path: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(path, "not valid base64") from None


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def as_object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProtocolError(path, f"expected a JSON object, got {_kind(value)}")
    return value


def as_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProtocolError(path, f"expected a JSON array, got {_kind(value)}")
    return value


def _get(obj: Mapping[str, Any], key: str, path: str, default: Any) -> Any:
    if key in obj:
        return obj[key]
    if default is _MISSING:
        raise ProtocolError(join(path, key), "required key is missing")
    return default


def get_str(obj: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> str:
    value = _get(obj, key, path, default)
    if not isinstance(value, str):
        raise ProtocolError(join(path, key), f"expected a string, got {_kind(value)}")
    return value


def get_opt_str(obj: Mapping[str, Any], key: str, path: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ProtocolError(join(path, key), f"expected a string or null, got {_kind(value)}")


LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1  # every integer on the wire is a Java int or long


def get_int(obj: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> int:
    """A 64-bit integer; decimal strings are accepted because the Java SDK writes some longs as strings."""
    value = _get(obj, key, path, default)
    if isinstance(value, bool):
        raise ProtocolError(join(path, key), "expected an integer, got a boolean")
    if isinstance(value, str):
        text = value.strip()
        if not (text.lstrip("+-").isascii() and text.lstrip("+-").isdigit() and len(text) <= 20):
            raise ProtocolError(join(path, key), f"expected an integer, got the string {value[:40]!r}")
        value = int(text)
    if not isinstance(value, int):
        raise ProtocolError(join(path, key), f"expected an integer, got {_kind(value)}")
    if not LONG_MIN <= value <= LONG_MAX:
        raise ProtocolError(join(path, key), f"{value} does not fit in a 64-bit integer")
    return value


def get_bool(obj: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> bool:
    value = _get(obj, key, path, default)
    if not isinstance(value, bool):
        raise ProtocolError(join(path, key), f"expected true or false, got {_kind(value)}")
    return value


def get_object(obj: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> Mapping[str, Any]:
    return as_object(_get(obj, key, path, default), join(path, key))


def get_list(obj: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> list[Any]:
    return as_list(_get(obj, key, path, default), join(path, key))


def get_str_map(obj: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> dict[str, str]:
    value = _get(obj, key, path, default)
    if value is None:
        return {}
    mapping = as_object(value, join(path, key))
    out: dict[str, str] = {}
    for k, v in mapping.items():
        if not isinstance(v, str):
            raise ProtocolError(join(join(path, key), k), f"expected a string value, got {_kind(v)}")
        out[k] = v
    return out


def get_str_list(obj: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> list[str]:
    items = get_list(obj, key, path, default)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ProtocolError(join(join(path, key), i), f"expected a string, got {_kind(item)}")
    return items


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
