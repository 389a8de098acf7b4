"""The Arrow compute kernels a first query needs, called without importing ``pyarrow.compute``.

Importing ``pyarrow.compute`` builds a Python wrapper, docstring included, for each of Arrow's ~300 kernels:
25 ms, as long as ``import pyarrow`` itself, paid by every cold Lambda (bench/README.md, section 3). Each of
those wrappers calls ``call_function`` of the compiled ``pyarrow._compute`` module, which loads in 4 ms; the
few kernels that turning a source's rows into Athena's answer needs (casts, min/max, the arithmetic of
``adapters.sql.decimal_columns``) are called through it here - also faster on small arrays, where the wrappers'
argument handling costs more than the kernel. ``Array.cast`` imports ``pyarrow.compute`` - use ``cast`` below on
that path; everything else (residual filters, sorting, zones) uses ``pyarrow.compute`` as usual.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

try:  # the compiled module every pyarrow.compute wrapper calls (public there as pyarrow.compute.call_function)
    from pyarrow._compute import CastOptions, RoundOptions, call_function
except ImportError:  # pragma: no cover - a pyarrow that moved them: the public module has both
    from pyarrow.compute import CastOptions, RoundOptions, call_function


def cast(array: Any, target: pa.DataType, *, safe: bool = True) -> Any:
    """``array.cast(target, safe=safe)`` (an Array or ChunkedArray), the same kernel and options."""
    if array.type == target:
        return array  # Arrow's cast to the same type returns the array too, without a call
    options = CastOptions.safe(target) if safe else CastOptions.unsafe(target)
    return call_function("cast", [array], options)


def min_max(array: Any) -> tuple[Any, Any]:
    """The smallest and largest non-null values (None, None when there are none), as Python values."""
    bounds = call_function("min_max", [array])
    return bounds["min"].as_py(), bounds["max"].as_py()


def call(name: str, *arguments: Any, options: Any = None) -> Any:
    """The kernel ``name`` on ``arguments`` (arrays or scalars), as ``pyarrow.compute.<name>`` would call it."""
    return call_function(name, list(arguments), options)


def round_options(ndigits: int, mode: str) -> Any:
    """``RoundOptions`` for ``call("round", ...)``."""
    return RoundOptions(ndigits, mode)
