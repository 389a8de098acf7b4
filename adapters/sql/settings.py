"""Settings every SQL adapter shares, declared once for the engines' declarations to include (no heavy import:
the registry reads declarations to answer a Ping)."""

from __future__ import annotations

from connector.engines import Setting

#: Most key ranges one table is cut into (``key_range_splits``).
MAX_KEY_RANGES = 1000

CASING_MODE = Setting(
    "casing_mode", str, None, "how Athena's lower-case names map to the source's: none, lower, upper or "
    "case_insensitive_search (tables and views); unset: the adapter's default",
    choices=("none", "lower", "upper", "case_insensitive_search"))

KEY_RANGE_SPLITS = Setting("key_range_splits", int, 1, "read each table as this many key ranges in parallel "
                           "(1: off)", low=1, high=MAX_KEY_RANGES)
KEY_RANGE_COLUMN = Setting("key_range_column", str, None, "the integer column to cut key ranges on; else a "
                           "one-column integer primary key")


def default_scale(default: int = 10) -> Setting:
    """``default_scale``: the scale of a decimal column declared without one (read as decimal(38, s))."""
    return Setting("default_scale", int, default, "scale of a NUMERIC/NUMBER declared without precision (read "
                   "as decimal(38, default_scale))", low=0, high=38)
