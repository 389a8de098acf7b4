"""The adapter in docs/writing-an-adapter.md works as published: installed as a package with an
``afq.adapters`` entry point and queried through the Lambda handler in a fresh process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "writing-an-adapter.md"


def published_adapter_code() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    (code,) = [b for b in blocks if "class CsvDirectoryAdapter" in b]
    return code


def install_as_package(site: Path) -> None:
    """What ``pip install`` of a package with the documented entry point leaves in site-packages."""
    (site / "afq_csvdir.py").write_text(published_adapter_code())
    dist = site / "afq_csvdir-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: afq-csvdir\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[afq.adapters]\ncsvdir = afq_csvdir:ENGINE\n")


QUERY = r'''
import json, sys
import pyarrow as pa
from connector.handler import lambda_handler
from connector.protocol import *
ident = Identity(account="1")
def call(r):
    return parse_response(lambda_handler(r.to_wire()))
out = {}
out["ping"] = call(PingRequest(ident, "c", "q")).source_type
out["schemas"] = list(call(ListSchemasRequest(ident, "q", "c")).schemas)
out["tables"] = [t.table for t in call(ListTablesRequest(ident, "q", "c", "sales", None, -1)).tables]
name = TableName("sales", "orders")
table = call(GetTableRequest(ident, "q", "c", name))
schema = table.schema.logical_schema()
out["columns"] = {f.name: str(f.type) for f in schema}
constraints = Constraints(summary={"region": SortedRangeSet(pa.string(), (Range.equal("emea"),), False)},
                          order_by=(OrderByField("amount", SortDirection.DESC_NULLS_LAST),), limit=2)
layout = call(GetTableLayoutRequest(ident, "q", "c", name, constraints, table.schema, ()))
(split,) = call(GetSplitsRequest(ident, "q", "c", name, layout.partitions, (), constraints, None)).splits
wanted = pa.schema([schema.field("id"), schema.field("amount")])
records = call(ReadRecordsRequest(ident, "q", "c", name, SchemaMessage.of_logical(wanted), split, constraints,
                                  16000000, 5000000))
out["rows"] = records.records.logical_batch().to_pylist()
print(json.dumps(out))
'''


def test_documented_adapter_is_found_through_its_entry_point_and_answers(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_as_package(site)
    data = tmp_path / "data" / "Sales"
    data.mkdir(parents=True)
    (data / "Orders.csv").write_text("ID,Region,Amount\n1,emea,10.5\n2,amer,99.0\n3,emea,20.25\n4,emea,7.0\n"
                                     "5,apac,50.0\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "default": f"csvdir://{tmp_path / 'data'}", "default_csvdir_block_bytes": "4096"}
    result = subprocess.run([sys.executable, "-c", QUERY], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["ping"] == "csvdir"
    assert out["schemas"] == ["sales"] and out["tables"] == ["orders"]
    assert out["columns"] == {"id": "int64", "region": "string", "amount": "double"}
    # WHERE region = 'emea' ORDER BY amount DESC LIMIT 2, applied by the framework as the residual
    assert out["rows"] == [{"id": 3, "amount": 20.25}, {"id": 1, "amount": 10.5}]


def test_unknown_engine_lists_the_known_ones() -> None:
    from connector.errors import ConfigurationError
    from connector.registry import adapter_class

    with pytest.raises(ConfigurationError, match=r"unknown engine 'nosuchdb'.*sqlite.*afq\.adapters"):
        adapter_class("nosuchdb")
