"""Just enough ELF reading to trim a bundle: a shared object's machine and its ``DT_NEEDED`` libraries.

Lambda runs 64-bit little-endian Linux (x86_64 or aarch64), so only ELF64 LE is parsed; anything else is
reported as "not loadable here". No external tool is needed, and it works for the other architecture too.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

ELF_MAGIC = b"\x7fELF"
#: Magic numbers of library formats that can never load on Lambda: PE, Mach-O (thin and fat), XCOFF, and the
#: archives AIX keeps shared objects in (``<bigaf>``) or static libraries come as (``!<arch>``).
FOREIGN_MAGICS = (b"MZ", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xca\xfe\xba\xbe",
                  b"\x01\xf7", b"\x01\xdf", b"<bigaf>\n", b"!<arch>\n")
_SHT_DYNAMIC = 6
_DT_NULL, _DT_NEEDED, _DT_SONAME = 0, 1, 14


@dataclass(frozen=True)
class ElfInfo:
    """``machine`` is ``e_machine``; ``elf64_le`` says whether the rest could be read."""

    machine: int
    elf64_le: bool
    needed: tuple[str, ...] = ()
    soname: str | None = None


def read_elf(path: Path) -> ElfInfo | None:
    """The ELF facts of ``path``, or None when it is not an ELF file.

    A damaged or truncated ELF file yields its machine with no dependencies rather than an exception.
    """
    with open(path, "rb") as f:
        header = f.read(20)
        if len(header) < 20 or header[:4] != ELF_MAGIC:
            return None
        machine = struct.unpack_from("<H" if header[5] != 2 else ">H", header, 18)[0]
        f.seek(0)
        try:
            return _read_elf(f)
        except (struct.error, ValueError, IndexError, OSError):
            return ElfInfo(machine, header[4] == 2 and header[5] == 1)


def _read_elf(f: BinaryIO) -> ElfInfo:
    header = f.read(64)
    machine = struct.unpack_from("<H" if header[5] != 2 else ">H", header, 18)[0]
    if header[4] != 2 or header[5] != 1 or len(header) < 64:
        return ElfInfo(machine, False)
    f.seek(0, 2)
    file_size = f.tell()

    def read(offset: int, size: int) -> bytes:
        if offset + size > file_size:
            raise ValueError("ELF structure points past the end of the file")
        f.seek(offset)
        return f.read(size)

    shoff, = struct.unpack_from("<Q", header, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", header, 0x3A)
    if shoff == 0 or shnum == 0 or shentsize < 64:
        return ElfInfo(machine, True)
    table = read(shoff, shentsize * shnum)
    sections = [struct.unpack_from("<IIQQQQIIQQ", table, i * shentsize) for i in range(shnum)]
    needed: list[str] = []
    soname: str | None = None
    for _name, sh_type, _flags, _addr, offset, size, link, _info, _align, _entsize in sections:
        if sh_type != _SHT_DYNAMIC or link >= shnum:
            continue
        dynamic = read(offset, size)
        strtab = read(sections[link][4], sections[link][5])
        for i in range(0, len(dynamic) - 15, 16):
            tag, value = struct.unpack_from("<qQ", dynamic, i)
            if tag == _DT_NULL:
                break
            if tag in (_DT_NEEDED, _DT_SONAME) and value < len(strtab):
                end = strtab.find(b"\0", value)
                text = strtab[value:end if end >= 0 else len(strtab)].decode("utf-8", "replace")
                if tag == _DT_NEEDED:
                    needed.append(text)
                else:
                    soname = text
    return ElfInfo(machine, True, tuple(needed), soname)


def is_foreign_binary(path: Path) -> bool:
    """True for a PE, Mach-O or XCOFF file: a library built for another operating system."""
    with open(path, "rb") as f:
        head = f.read(8)
    return any(head.startswith(magic) for magic in FOREIGN_MAGICS)
