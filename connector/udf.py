"""Scalar user-defined functions: vectorized, Arrow in and Arrow out, row order preserved.

``USING EXTERNAL FUNCTION f(x INT) RETURNS INT LAMBDA '<function>' SELECT f(c) ...`` reaches the connector as a
UserDefinedFunctionRequest with one column per argument. A UDF receives those columns as Arrow arrays (logical
types) and returns one array of the same length.

Register with ``@udf("name")`` in a module listed in the ``AFQ_UDF_MODULES`` environment variable (comma
separated); the modules are imported on the first UDF request, not at cold start.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa

from connector import exact_cast
from connector.errors import InvalidRequest, UnsupportedRequest, first_line
from connector.protocol.block import Block
from connector.protocol.messages import UserDefinedFunctionRequest, UserDefinedFunctionResponse

UdfFunction = Callable[..., Any]


class UdfRegistry:
    def __init__(self) -> None:
        self._functions: dict[str, UdfFunction] = {}
        self._loaded_modules = False

    def register(self, name: str, function: UdfFunction) -> None:
        self._functions[name.lower()] = function

    def names(self) -> list[str]:
        return sorted(self._functions)

    def load_modules(self, env: Mapping[str, str]) -> None:
        if self._loaded_modules:
            return
        for module in filter(None, (m.strip() for m in env.get("AFQ_UDF_MODULES", "").split(","))):
            try:
                importlib.import_module(module)
            except ImportError as e:
                raise UnsupportedRequest(f"AFQ_UDF_MODULES names {module!r}, which cannot be imported: {e}") from None
        self._loaded_modules = True

    def call(self, request: UserDefinedFunctionRequest) -> UserDefinedFunctionResponse:
        if request.function_type.upper() != "SCALAR":
            raise UnsupportedRequest(f"UDF type {request.function_type!r} is not supported; only SCALAR is")
        function = self._functions.get(request.method_name.lower())
        if function is None:
            known = ", ".join(self.names()) or "none"
            raise UnsupportedRequest(f"no UDF named {request.method_name!r} is registered (registered: {known})")
        inputs = request.input_records.logical_batch("inputRecords")
        output_schema = request.output_schema.logical_schema("outputSchema")
        if len(output_schema) != 1:
            raise InvalidRequest(f"outputSchema must have exactly one field, it has {len(output_schema)}")
        field = output_schema.field(0)
        result = function(*inputs.columns)
        try:
            array = result if isinstance(result, pa.Array | pa.ChunkedArray) else exact_cast.array(result, field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
            raise InvalidRequest(f"UDF {request.method_name!r} returned values that are not {field.type}: "
                                 f"{str(e).splitlines()[0][:200]}") from None
        if len(array) != inputs.num_rows:
            raise InvalidRequest(f"UDF {request.method_name!r} returned {len(array)} values for "
                                 f"{inputs.num_rows} input rows")
        try:
            array = exact_cast.cast(array, field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise InvalidRequest(f"UDF {request.method_name!r} returned {array.type}, which does not convert to "
                                 f"{field.type}: {first_line(e)}") from None
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        batch = pa.RecordBatch.from_arrays([array], schema=output_schema)
        block = Block.with_schema(request.output_schema, batch, aid=request.input_records.aid)
        return UserDefinedFunctionResponse(block, request.method_name)


registry = UdfRegistry()


def udf(name: str) -> Callable[[UdfFunction], UdfFunction]:
    """Decorator: ``@udf("double_it")`` registers a function in the default registry."""
    def register(function: UdfFunction) -> UdfFunction:
        registry.register(name, function)
        return function
    return register
