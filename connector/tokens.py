"""Numbers a request carries as text - continuation tokens, split properties - read strictly.

Python's ``int()`` accepts far more than a token this connector ever wrote: other scripts' digits (``"١٢"``),
underscores, surrounding blanks, and any number of digits (past 4,300 it raises a bare ``ValueError``). A token
or split property comes back from the caller, so it is read as what we wrote: ASCII digits, an optional minus
sign where negative values exist, at most 19 digits, a value that fits a Java long - anything else is an
``InvalidRequest`` naming the field.
"""

from __future__ import annotations

from connector.errors import InvalidRequest

#: Digits of the longest number read (a Java long has 19).
MAX_DIGITS = 19
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


def parse_count(text: str | None, what: str, *, high: int = LONG_MAX) -> int:
    """A non-negative whole number from ``0`` to ``high`` written in ASCII digits (an offset, a bucket, a page)."""
    value = _parse(text, what, signed=False)
    if value > high:
        raise InvalidRequest(f"{what} {value} is out of range (at most {high})")
    return value


def parse_long(text: str | None, what: str) -> int:
    """A whole number that fits a Java long, ASCII digits with an optional leading ``-`` (a key or rowid bound)."""
    return _parse(text, what, signed=True)


def read_number(text: object, *, signed: bool = False) -> int | None:
    """The number ``text`` holds if it is one as this connector writes them (see above), else None - for callers
    with their own error message."""
    if not isinstance(text, str):
        return None
    digits = text[1:] if signed and text.startswith("-") else text
    if not (0 < len(digits) <= MAX_DIGITS and digits.isascii() and digits.isdigit()):
        return None
    value = int(text)
    return value if LONG_MIN <= value <= LONG_MAX else None


def _parse(text: str | None, what: str, *, signed: bool) -> int:
    value = read_number(text, signed=signed)
    if value is None:
        if not isinstance(text, str):
            raise InvalidRequest(f"{what} is missing")
        shown = text[:40] + ("..." if len(text) > 40 else "")
        kind = "a whole number" if signed else "a non-negative whole number"
        raise InvalidRequest(f"{what} {shown!r} is not {kind} of at most {MAX_DIGITS} ASCII digits that fits "
                             f"in a 64-bit integer")
    return value
