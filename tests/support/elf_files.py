"""Tiny but well-formed ELF shared objects for tests (header, .dynstr, .dynamic, section headers)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

X86_64, AARCH64, I386 = 62, 183, 3


def elf_bytes(machine: int = X86_64, needed: Sequence[str] = (), soname: str | None = None) -> bytes:
    strtab = bytearray(b"\0")
    entries: list[tuple[int, int]] = []
    for tag, name in [(1, n) for n in needed] + ([(14, soname)] if soname is not None else []):
        entries.append((tag, len(strtab)))
        strtab += name.encode() + b"\0"
    dynamic = b"".join(struct.pack("<qQ", tag, value) for tag, value in [*entries, (0, 0)])
    strtab_offset = 64
    dynamic_offset = strtab_offset + len(strtab)
    shoff = dynamic_offset + len(dynamic)
    header = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + bytes(9), 3, machine, 1, 0, 0, shoff, 0,
                         64, 0, 0, 64, 3, 0)
    sections = [
        struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        struct.pack("<IIQQQQIIQQ", 0, 3, 0, 0, strtab_offset, len(strtab), 0, 0, 1, 0),
        struct.pack("<IIQQQQIIQQ", 0, 6, 0, 0, dynamic_offset, len(dynamic), 1, 0, 8, 16),
    ]
    return header + bytes(strtab) + dynamic + b"".join(sections)


def elf32_bytes(machine: int = I386) -> bytes:
    return b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack("<HH", 3, machine) + bytes(32)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
