"""``--trace`` files read back: ``afq trace show`` renders them for people (blocks as rows), and
``afq invoke --replay`` sends their requests again.

A trace holds every request and response as JSON lines with spill keys, encryption keys and identity
configuration redacted. Showing needs none of those. Replaying gives each request what was redacted afresh: a
new encryption key, a new spill object key under this machine's spill prefix, and no redacted config options -
the same request otherwise, so a failing split can be re-run against a fixed adapter.
"""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from typing import IO, Any

from connector.errors import ConnectorError
from connector.local.errors import InvokeError, LambdaFunctionError
from connector.local.targets import Target
from connector.redact import REDACTED, redact_message

DEFAULT_ROWS = 10


class TraceError(ConnectorError):
    """The trace file cannot be read (not found, not JSON lines, not a trace)."""


@dataclass
class TraceRecord:
    seq: int
    direction: str  # request, response, error
    catalog: str
    message: dict[str, Any]
    millis: float | None = None
    answers: int | None = None  # the request seq a response or error answers (traces written since 0.1)
    time: str = ""

    @property
    def kind(self) -> str:
        return str(self.message.get("@type") or self.message.get("errorType") or "?")


def read_trace(path: str) -> list[TraceRecord]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as e:
        raise TraceError(f"cannot read the trace {path}: {e.strerror or e}") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            record = TraceRecord(int(raw["seq"]), str(raw["direction"]), str(raw.get("catalog", "")),
                                 dict(raw["message"]), raw.get("millis"), raw.get("for"), str(raw.get("time", "")))
        except (ValueError, KeyError, TypeError) as e:
            raise TraceError(f"{path}:{number} is not a trace record written by --trace ({type(e).__name__}: "
                             f"{str(e)[:200]})") from None
        records.append(record)
    return records


# ------------------------------------------------------------------------------------------ show


def show_trace(path: str, stream: IO[str], *, rows: int = DEFAULT_ROWS) -> int:
    """Every record on one line, with the rows of every block (up to ``rows`` each) under it."""
    records = read_trace(path)
    for record in records:
        millis = f"{record.millis:>8.1f} ms" if record.millis is not None else " " * 11
        stream.write(f"#{record.seq:<4} {record.direction:<8} {record.kind:<34} {millis}  "
                     f"{_summary(record)}\n")
        for line in _details(record, rows):
            stream.write(f"        {line}\n")
    requests = sum(r.direction == "request" for r in records)
    errors = sum(r.direction == "error" for r in records)
    stream.write(f"({len(records)} records: {requests} requests, {errors} errors)\n")
    return 0


def _table_name(message: dict[str, Any]) -> str:
    table = message.get("tableName")
    if isinstance(table, dict):
        return f"{table.get('schemaName')}.{table.get('tableName')}"
    return ""


def _summary(record: TraceRecord) -> str:
    m = record.message
    kind = record.kind
    subject = ".".join(p for p in (record.catalog, _table_name(m)) if p)
    if record.direction == "error":
        return f"{m.get('errorType')}: {m.get('errorMessage')}"
    if kind == "PingResponse":
        return f"{m.get('sourceType')}, serde v{m.get('serDeVersion')}"
    if kind == "ListSchemasResponse":
        return ", ".join(str(s) for s in m.get("schemas") or []) or "(no schemas)"
    if kind == "ListTablesResponse":
        names = [f"{t.get('schemaName')}.{t.get('tableName')}" for t in m.get("tables") or []]
        return f"{len(names)} table(s): {', '.join(names[:10])}{', ...' if len(names) > 10 else ''}"
    if kind == "GetTableResponse":
        return f"{subject}: {_schema_text(m.get('schema'))}"
    if kind == "GetSplitsResponse":
        splits = m.get("splits") or []
        token = m.get("continuationToken")
        return f"{len(splits)} split(s)" + (f", continuation {token!r}" if token else "")
    if kind == "ReadRecordsRequest":
        constraints = m.get("constraints") or {}
        pushed = [f"filter on {', '.join(constraints['summary'])}"] if constraints.get("summary") else []
        if constraints.get("expression"):
            pushed.append(f"{len(constraints['expression'])} expression(s)")
        if constraints.get("orderByClause"):
            pushed.append("top-N")
        if constraints.get("limit", -1) not in (-1, None, 0):
            pushed.append(f"limit {constraints['limit']}")
        split = m.get("split") or {}
        props = ", ".join(f"{k}={v}" for k, v in (split.get("properties") or {}).items())
        return (f"{subject} columns: {_schema_text(m.get('schema'), types=False)}"
                + (f"; split {props}" if props else "") + (f"; {'; '.join(pushed)}" if pushed else ""))
    if kind == "ReadRecordsResponse":
        batch = _block_batch(m.get("records"))
        return f"{batch.num_rows} row(s) inline" if batch is not None else "records (unreadable block)"
    if kind == "RemoteReadRecordsResponse":
        blocks = m.get("remoteBlocks") or []
        return f"{len(blocks)} spilled block(s) (in the spill store; the trace redacts their keys)"
    if kind == "GetTableLayoutResponse":
        batch = _block_batch(m.get("partitions"))
        return f"{batch.num_rows} partition(s)" if batch is not None else ""
    if kind == "GetDataSourceCapabilitiesResponse":
        return ", ".join(sorted(m.get("capabilities") or {}))
    return subject


def _details(record: TraceRecord, rows: int) -> list[str]:
    m = record.message
    block = m.get("records") if record.kind == "ReadRecordsResponse" else (
        m.get("partitions") if record.kind == "GetTableLayoutResponse" else None)
    if block is None or rows <= 0:
        return []
    batch = _block_batch(block)
    if batch is None or not batch.num_rows or not batch.num_columns:
        return []
    import pyarrow as pa

    from connector.local.output import write_table

    out = io.StringIO()
    shown = pa.Table.from_batches([batch.slice(0, rows)])
    write_table(shown, out)
    lines = out.getvalue().splitlines()
    if batch.num_rows > rows:
        lines[-1] = f"({rows} of {batch.num_rows} rows shown; --rows N shows more)"
    return lines


def _block_batch(block: Any) -> Any:
    """The rows of a trace's block (logical types), or None when it cannot be decoded."""
    if not isinstance(block, dict):
        return None
    from connector.protocol.block import Block
    from connector.protocol.errors import ProtocolError

    try:
        return Block.from_wire(block, "block").logical_batch()
    except (ProtocolError, ValueError, TypeError):
        return None


def _schema_text(value: Any, *, types: bool = True) -> str:
    if not isinstance(value, str):
        return "?"
    from connector.protocol.block import SchemaMessage, b64decode
    from connector.protocol.errors import ProtocolError
    from connector.protocol.types import athena_type_name

    try:
        schema = SchemaMessage(b64decode(value, "schema")).logical_schema()
    except (ProtocolError, ValueError, TypeError):
        return "(unreadable schema)"
    if types:
        return ", ".join(f"{f.name} {_type_name(athena_type_name, f.type)}" for f in schema) or "(no columns)"
    return ", ".join(schema.names) or "(none)"


def _type_name(name_of: Any, t: Any) -> str:
    try:
        return str(name_of(t))
    except (TypeError, ValueError):
        return str(t)


# ------------------------------------------------------------------------------------------ replay


@dataclass
class ReplayReport:
    answered: int = 0
    failed: int = 0
    same: int = 0
    different: list[str] = field(default_factory=list)
    dropped_options: set[str] = field(default_factory=set)


def fresh_secrets(message: Any, spill_prefix: str, report: ReplayReport, parent: str = "") -> Any:
    """A copy of a traced request with new encryption keys and spill keys where the trace redacted them."""
    from connector.protocol.messages import EncryptionKey
    from spill.locations import AES_KEY_BYTES, NONCE_BYTES

    if isinstance(message, dict):
        if parent == "encryptionKey" and REDACTED in message.values():
            import secrets

            return EncryptionKey(secrets.token_bytes(AES_KEY_BYTES), secrets.token_bytes(NONCE_BYTES)).to_wire()
        if message.get("@type") == "S3SpillLocation" and message.get("key") == REDACTED:
            return {**message, "key": f"{spill_prefix}/replay-{uuid.uuid4()}/{uuid.uuid4()}"}
        if parent == "configOptions":
            kept = {k: v for k, v in message.items() if v != REDACTED}
            report.dropped_options |= set(message) - set(kept)
            return kept
        return {k: fresh_secrets(v, spill_prefix, report, k) for k, v in message.items()}
    if isinstance(message, list):
        return [fresh_secrets(v, spill_prefix, report, parent) for v in message]
    return message


def _comparable(message: Any) -> Any:
    """A message without what differs on every answer by design: block ids (``aId``)."""
    if isinstance(message, dict):
        return {k: _comparable(v) for k, v in message.items() if k != "aId"}
    if isinstance(message, list):
        return [_comparable(v) for v in message]
    return message


def replay(path: str, target: Target, out: IO[str], *, only: set[int] | None = None,
           pretty: bool = False) -> ReplayReport:
    """Send the trace's requests in order; print each answer; compare it with the traced one where known."""
    from connector.config import Settings

    records = read_trace(path)
    requests = [r for r in records if r.direction == "request" and (only is None or r.seq in only)]
    if not requests:
        raise TraceError(f"{path} has no request" + (f" with seq {sorted(only)}" if only else ""))
    answers = {r.answers: r for r in records if r.direction != "request" and r.answers is not None}
    report = ReplayReport()
    prefix = Settings.from_env().spill_prefix
    for record in requests:
        event = fresh_secrets(record.message, prefix, report)
        try:
            response: dict[str, Any] = target.invoke(event)
        except (LambdaFunctionError, InvokeError) as e:
            report.failed += 1
            response = {"errorType": e.error_type, "errorMessage": e.message}
        else:
            report.answered += 1
        json.dump(response, out, indent=2 if pretty else None)
        out.write("\n")
        traced = answers.get(record.seq)
        if traced is not None:
            if _comparable(redact_message(response)) == _comparable(traced.message):
                report.same += 1
            else:
                report.different.append(f"#{record.seq} {record.kind}")
    return report
