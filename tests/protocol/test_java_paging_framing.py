"""ListTables paging, response framing and inline sizes as the Java SDK (a3be8aa2) behaves.

* ``PaginationHelper.manualPagination``: ``pageSize`` -1 with a ``nextToken`` lists from the token to the end;
  ``pageSize`` 0 answers an empty page that carries the same position; below -1 is an error.
* ``CompositeHandler`` parses a request with the newest serde that accepts it, so a v2-shaped request is
  answered by the v3 serdes (v4 for GetTable): Arrow messages in the modern framing.
* ``S3BlockSpiller.spilled()`` is ``block size >= maxInlineBlockSize``: a limit <= 0 spills every block.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow as pa
import pytest

from connector.errors import InvalidRequest
from connector.protocol import ipc
from connector.protocol.block import SchemaMessage
from connector.protocol.constraints import Constraints
from connector.protocol.messages import (
    GetTableLayoutRequest,
    ListTablesRequest,
    ReadRecordsResponse,
    RemoteReadRecordsResponse,
)
from spill.reader import read_remote_blocks
from tests.support.athena import LocalAthena

NAMES = [f"t{i:02d}" for i in range(7)]


@pytest.fixture
def tables_db(tmp_path: Path) -> Path:
    path = tmp_path / "tables.db"
    with sqlite3.connect(path) as db:
        for name in NAMES:
            db.execute(f'CREATE TABLE "{name}" (id INTEGER, label TEXT)')
        db.executemany('INSERT INTO "t00" VALUES (?, ?)', [(i, f"row {i}") for i in range(50)])
    return path


def _env(db: Path, tmp_path: Path) -> dict[str, str]:
    return {"default": f"sqlite://jdbc:sqlite:{db}", "AFQ_LOCAL_SPILL_DIR": str(tmp_path / "spill")}


def test_page_size_minus_one_with_a_token_continues_from_the_token(tables_db: Path, tmp_path: Path) -> None:
    with LocalAthena(_env(tables_db, tmp_path)) as athena:
        everything, _ = athena.tables("main")
        first, token = athena.tables("main", page_size=3)
        assert first == everything[:3] and token is not None
        rest, last_token = athena.tables("main", page_size=-1, token=token)
        assert rest == everything[3:] and last_token is None  # main restarted from the first table here


def test_page_size_zero_is_an_empty_page_with_the_same_position(tables_db: Path, tmp_path: Path) -> None:
    with LocalAthena(_env(tables_db, tmp_path)) as athena:
        everything, _ = athena.tables("main")
        _, token = athena.tables("main", page_size=2)
        empty, same = athena.tables("main", page_size=0, token=token)
        assert empty == [] and same == token
        # ... and paging on from it loses nothing
        page, _ = athena.tables("main", page_size=2, token=same)
        assert page == everything[2:4]
        at_start, start_token = athena.tables("main", page_size=0)
        assert at_start == [] and start_token is not None
        assert athena.tables("main", page_size=len(everything), token=start_token)[0] == everything


def test_page_size_below_minus_one_is_refused(tables_db: Path, tmp_path: Path) -> None:
    with LocalAthena(_env(tables_db, tmp_path)) as athena, pytest.raises(InvalidRequest, match="pageSize"):
        athena.call(ListTablesRequest(athena.identity, athena.query_id, athena.catalog, "main", None, -2))


def test_v2_requests_are_answered_in_the_modern_framing(tables_db: Path, tmp_path: Path) -> None:
    with LocalAthena(_env(tables_db, tmp_path)) as athena:
        athena.version = 2
        name, definition = athena.get_table("main", "t00")
        assert not definition.schema.is_legacy  # GetTableResponseSerDe under the v4 mapper
        legacy_schema = SchemaMessage(ipc.to_legacy(definition.schema.data))
        assert legacy_schema.is_legacy
        splits = athena.splits(name, legacy_schema)
        response = athena.read(name, legacy_schema, splits[0])
        assert isinstance(response, ReadRecordsResponse)
        records = response.records
        assert not records.is_legacy and records.records_bytes[:4] == b"\xff\xff\xff\xff"
        assert records.wire_schema() == legacy_schema.wire_schema()  # the same schema, re-framed only
        assert response.records.logical_batch().num_rows == 50


def test_layout_partitions_of_a_v2_request_are_modern(tables_db: Path, tmp_path: Path) -> None:
    with LocalAthena(_env(tables_db, tmp_path)) as athena:
        name, definition = athena.get_table("main", "t00")
        legacy_schema = SchemaMessage(ipc.to_legacy(definition.schema.data))
        request = GetTableLayoutRequest(athena.identity, athena.query_id, athena.catalog, name, Constraints(),
                                        legacy_schema, ())
        layout = athena.call(request)
        assert not layout.partitions.is_legacy


@pytest.mark.parametrize("limit", [0, -1, -(2**63)])
def test_max_inline_block_size_at_or_below_zero_spills_everything(tables_db: Path, tmp_path: Path,
                                                                   limit: int) -> None:
    with LocalAthena(_env(tables_db, tmp_path)) as athena:
        name, definition = athena.get_table("main", "t00")
        split = athena.splits(name, definition)[0]
        response = athena.read(name, definition, split, max_inline_block_size=limit)
        assert isinstance(response, RemoteReadRecordsResponse) and response.remote_blocks
        rows = pa.Table.from_batches(list(read_remote_blocks(response, athena.service.settings)))
        assert sorted(rows.column("id").to_pylist()) == list(range(50))


def test_an_empty_result_with_inline_size_zero_has_no_remote_blocks(tables_db: Path, tmp_path: Path) -> None:
    with LocalAthena(_env(tables_db, tmp_path)) as athena:
        name, definition = athena.get_table("main", "t01")  # no rows
        split = athena.splits(name, definition)[0]
        response = athena.read(name, definition, split, max_inline_block_size=0)
        assert isinstance(response, RemoteReadRecordsResponse) and response.remote_blocks == ()
        inline = athena.read(name, definition, split)
        assert isinstance(inline, ReadRecordsResponse) and inline.records.records_bytes == b""
