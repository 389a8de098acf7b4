"""``connector.errors.first_line``, the one helper for "the first line of an error", and the paths that used
to write it by hand: an exception with an empty (or blank) message raised inside them must leave as the path's
own error naming the exception's class - before the helper, ``str(e).splitlines()[0]`` raised ``IndexError``
inside the ``except`` block instead, and the user saw a Python bug instead of the failure.

No source produces an empty message on demand here, so each path gets one at the boundary where a real
component would raise it (Arrow's cast, sqlglot's parser, the YAML reader); everything around it runs for real.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest

from connector.errors import ConnectorError, first_line


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


@pytest.mark.parametrize(("error", "limit", "expected"), [
    (ValueError("bad value\nat line 2"), 500, "bad value"),
    (ValueError("\n\n   \n  second line is the first with text  \n"), 500, "second line is the first with text"),
    (ValueError(""), 500, "ValueError"),
    (ValueError("  \n\t\n "), 500, "ValueError"),
    (KeyError(""), 500, "''"),  # KeyError prints its argument's repr: that is its text
    (pa.ArrowInvalid("x" * 600), 200, "x" * 200),
    (ValueError("y" * 600), None, "y" * 600),
    (_Unprintable(), 500, "_Unprintable"),
])
def test_first_line(error: BaseException, limit: int | None, expected: str) -> None:
    assert first_line(error, limit) == expected


# ------------------------------------------------------------------------------------------ the paths

def _cast_fails(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    from connector import exact_cast

    def cast(*_: Any, **__: Any) -> Any:
        raise pa.ArrowInvalid(message)

    monkeypatch.setattr(exact_cast, "cast", cast)


def _conform(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    from connector.scan import conform

    _cast_fails(monkeypatch, message)
    conform(pa.record_batch({"c": pa.array([1, 2], pa.int64())}), pa.schema({"c": pa.int32()}))


def _udf(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    from connector.protocol.block import Block, SchemaMessage
    from connector.protocol.messages import UserDefinedFunctionRequest
    from connector.udf import UdfRegistry
    from tests.support.athena import IDENTITY

    _cast_fails(monkeypatch, message)
    registry = UdfRegistry()
    registry.register("twice", lambda column: column)
    inputs = Block.from_logical(pa.record_batch({"c": pa.array([1, 2], pa.int64())}))
    output = SchemaMessage.of_logical(pa.schema({"r": pa.int32()}))
    registry.call(UserDefinedFunctionRequest(IDENTITY, inputs, output, "twice", "SCALAR"))


def _jdbc_column(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    from adapters.jdbc.columnar import _to_column_type, plan_column
    from connector.pushdown.sql import SourceColumn

    _cast_fails(monkeypatch, message)
    _to_column_type(pa.array([1, 2], pa.int64()), plan_column(SourceColumn("c", "C", pa.int32())))


def _row_filter(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    import sqlglot

    from connector.access.enforce import compile_row_filter
    from connector.access.policy import TableGrant
    from connector.protocol.messages import TableName

    def parse_one(*_: Any, **__: Any) -> Any:
        raise sqlglot.errors.ParseError(message)

    monkeypatch.setattr(sqlglot, "parse_one", parse_one)
    grant = TableGrant("*", "s", "t", row_filter="region = 'emea'")
    compile_row_filter(grant, TableName("s", "t"), pa.schema({"region": pa.string()}))


def _policy_text(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    yaml = pytest.importorskip("yaml")
    from connector.access.source import parse_text

    def safe_load(*_: Any, **__: Any) -> Any:
        raise yaml.YAMLError(message)

    monkeypatch.setattr(yaml, "safe_load", safe_load)
    parse_text("rules: [", "policy.yaml")


PATHS: dict[str, tuple[Callable[[pytest.MonkeyPatch, str], None], str]] = {
    "conform a column (connector.scan)": (_conform, "ArrowInvalid"),
    "a UDF's result (connector.udf)": (_udf, "ArrowInvalid"),
    "a JDBC column (adapters.jdbc.columnar)": (_jdbc_column, "ArrowInvalid"),
    "a row filter (connector.access.enforce)": (_row_filter, "ParseError"),
    "a YAML policy (connector.access.source)": (_policy_text, "YAMLError"),
}


@pytest.mark.parametrize("message", ["", "  \n "])
@pytest.mark.parametrize("path", PATHS)
def test_an_empty_error_message_is_reported_not_an_index_error(monkeypatch: pytest.MonkeyPatch, path: str,
                                                               message: str) -> None:
    run, name = PATHS[path]
    with pytest.raises(ConnectorError) as failed:
        run(monkeypatch, message)
    assert name in str(failed.value)
