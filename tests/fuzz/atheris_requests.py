"""Coverage-guided fuzzing of the request parser and block decoder with atheris (libFuzzer).

    make fuzz-atheris                      # explore for FUZZ_RUNS inputs (default 200000)
    python -m tests.fuzz.atheris_requests -runs=5000 [corpus_dir]
    python -m tests.fuzz.atheris_requests fuzz-out/crash-...   # replay one input

Each input is either JSON text (seeded with real request events of every type) or, when it starts with a
zero byte, raw bytes put into a block's ``records`` and ``schema``. Anything but a ``ProtocolError`` (or a
clean parse and decode) is a crash that libFuzzer reports with the input that caused it.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from typing import Any

import atheris

with atheris.instrument_imports(include=["connector"]):
    from connector.protocol import Block, ProtocolError, SchemaMessage, parse_request_json

import contextlib

from tests.protocol.test_fuzz import decode_all
from tests.support.protocol_events import events

_SCHEMA = SchemaMessage.of_logical(__import__("pyarrow").schema([("a", __import__("pyarrow").int64()),
                                                                 ("s", __import__("pyarrow").string())]))


def one_input(data: bytes) -> None:
    if data[:1] == b"\0":
        half = len(data) // 2
        for schema, records in ((_SCHEMA.to_wire(), data[1:]), (base64.b64encode(data[1:half]).decode(), b"")):
            with contextlib.suppress(ProtocolError):
                Block.from_wire({"aId": "x", "schema": schema, "records": base64.b64encode(records).decode()},
                                "block").logical_batch()
        return
    with contextlib.suppress(ProtocolError):
        decode_all(parse_request_json(data))


def seed_corpus(directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    for i, event in enumerate(events()):
        with open(os.path.join(directory, f"seed-{i:02d}.json"), "w") as f:
            json.dump(event, f)


def main(argv: list[str]) -> Any:
    corpus = [a for a in argv[1:] if not a.startswith("-")]
    if corpus and not os.path.isfile(corpus[0]):  # a file is an input to replay (a crash), not a corpus
        seed_corpus(corpus[0])
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
