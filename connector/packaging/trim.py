"""Removing what a Lambda bundle never loads, and stripping the shared objects that remain.

Every rule is measured, not guessed: ``import pyarrow, pyarrow.compute, pyarrow.ipc`` maps ``lib`` and
``_compute`` plus the seven libraries ``lib``'s ``DT_NEEDED`` chain names (arrow, compute, acero, dataset,
parquet, substrait, arrow_python); Flight, the cloud filesystems, ORC, CUDA, Gandiva and the test suite are
never loaded by the connector, and wheels ship each library three times under its link names. Libraries are
kept or removed by following ``DT_NEEDED`` from the extension modules that stay, so a pyarrow release that
links differently is still handled. Drivers that ship binaries for every platform (teradatasql) lose the
ones that cannot load on the target.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from connector.packaging.elf import is_foreign_binary, read_elf
from connector.packaging.targets import PackagingError, Target

#: Source and build files: nothing imports them at run time.
JUNK_SUFFIXES = frozenset({".pyx", ".pxd", ".pxi", ".h", ".hpp", ".hh", ".c", ".cc", ".cpp", ".cxx", ".pyi"})
TEST_DIRS = frozenset({"tests", "test"})
#: pip's records of this installation: stale after trimming, and ``direct_url.json`` names the build machine's
#: wheel cache (which would make the zip differ between machines). METADATA, entry points and licences stay.
INSTALL_RECORDS = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})

#: pyarrow modules (``name.py``, ``name/`` or an extension ``name.*.so``) the connector never imports.
PYARROW_UNUSED = frozenset({
    "flight", "_flight", "orc", "_orc", "_dataset_orc", "cuda", "_cuda", "gandiva", "jvm", "benchmark",
    "_s3fs", "_gcsfs", "_azurefs", "_hdfs", "substrait", "_substrait", "feather", "_feather",
    "_pyarrow_cpp_tests", "_parquet_encryption", "_dataset_parquet_encryption", "include", "includes", "src",
})
PYARROW_UNUSED_FILES = frozenset({"parquet/encryption.py"})

_SHARED_LIBRARY = re.compile(r"\.(so(\.\d+)*|dll|dylib|pyd)$")
_CPYTHON_TAG = re.compile(r"\.cpython-(\d+)[a-z]*-[^.]*\.so$")
_EXTENSION = re.compile(r"\.(cpython-[^.]+|abi3)\.so$")


@dataclass
class TrimReport:
    """Bytes and files removed per rule, bytes saved by stripping, and anything worth a look."""

    removed_bytes: dict[str, int] = field(default_factory=dict)
    removed_files: dict[str, int] = field(default_factory=dict)
    stripped_bytes: int = 0
    strip_tool: str | None = None
    warnings: list[str] = field(default_factory=list)

    def record(self, rule: str, path: Path) -> None:
        size = _tree_size(path)
        count = sum(1 for _ in _files(path)) if path.is_dir() else 1
        self.removed_bytes[rule] = self.removed_bytes.get(rule, 0) + size
        self.removed_files[rule] = self.removed_files.get(rule, 0) + count
        _remove(path)

    def to_json(self) -> dict[str, object]:
        return {"removed_bytes": dict(sorted(self.removed_bytes.items())),
                "removed_files": dict(sorted(self.removed_files.items())),
                "stripped_bytes": self.stripped_bytes, "strip_tool": self.strip_tool, "warnings": self.warnings}


def trim(site: Path, target: Target, *, keep_fips: bool = False) -> TrimReport:
    """Apply every rule to an installed ``--target`` directory, in place."""
    report = TrimReport()
    if (site / "bin").is_dir():
        report.record("console scripts (bin/)", site / "bin")
    _remove_junk(site, report)
    _remove_unloadable(site, target, report)
    if not keep_fips:
        for name in ("teradatasql.fips.so", "teradatasql.arm.fips.so"):
            if (site / "teradatasql" / name).exists():
                report.record("teradatasql FIPS library (use --teradata-fips to keep)", site / "teradatasql" / name)
    if (site / "pyarrow").is_dir():
        _trim_pyarrow(site, report)
    return report


def _remove_junk(site: Path, report: TrimReport) -> None:
    for directory, subdirs, files in os.walk(site, topdown=True):
        here = Path(directory)
        for name in sorted(subdirs):
            if name == "__pycache__" or name in TEST_DIRS:
                report.record("tests and caches", here / name)
                subdirs.remove(name)
        for name in files:
            path = here / name
            if path.suffix in JUNK_SUFFIXES:
                report.record("sources, headers, stubs (.pyx .pxd .h .c .pyi)", path)
            elif name == "conftest.py":
                report.record("tests and caches", path)
            elif name in INSTALL_RECORDS and here.name.endswith(".dist-info"):
                report.record("pip's install records (RECORD, direct_url.json)", path)


def _remove_unloadable(site: Path, target: Target, report: TrimReport) -> None:
    for path in list(_files(site)):
        name = path.name
        if not _SHARED_LIBRARY.search(name):
            continue
        tag = _CPYTHON_TAG.search(name)
        if tag and tag.group(1) != target.cpython_tag[2:]:
            report.record("extension modules for other Python versions", path)
            continue
        info = read_elf(path)
        if info is None:
            if is_foreign_binary(path):
                report.record("libraries for other platforms", path)
            continue
        if not info.elf64_le or info.machine != target.elf_machine:
            report.record("libraries for other platforms", path)


def _trim_pyarrow(site: Path, report: TrimReport) -> None:
    root = site / "pyarrow"
    for entry in sorted(root.iterdir()):
        if entry.name.split(".", 1)[0] in PYARROW_UNUSED:
            report.record("pyarrow modules the connector never loads", entry)
    for relative in sorted(PYARROW_UNUSED_FILES):
        if (root / relative).exists():
            report.record("pyarrow modules the connector never loads", root / relative)
    unreadable = [e.name for e in root.iterdir() if _EXTENSION.search(e.name) and not _needed_of(e)]
    if unreadable:
        report.warnings.append(f"pyarrow libraries kept: cannot read DT_NEEDED of {', '.join(sorted(unreadable))}")
        return
    needed = _needed_closure(site)
    for entry in sorted(root.iterdir()):
        if entry.is_file() and entry.name.startswith("lib") and ".so" in entry.name and \
                not _EXTENSION.search(entry.name) and entry.name not in needed:
            report.record("pyarrow libraries nothing links (Flight, S3, duplicate link names)", entry)


def _needed_of(path: Path) -> tuple[str, ...]:
    info = read_elf(path)
    return info.needed if info else ()


def _needed_closure(site: Path) -> set[str]:
    """Names of every library reachable through DT_NEEDED from the extension modules in ``site``."""
    by_name: dict[str, tuple[str, ...]] = {}
    roots: list[str] = []
    for path in _files(site):
        if not _SHARED_LIBRARY.search(path.name):
            continue
        info = read_elf(path)
        if info is None:
            continue
        by_name[path.name] = info.needed
        if info.soname and info.soname != path.name:
            by_name.setdefault(info.soname, info.needed)
        if _EXTENSION.search(path.name) or not path.name.startswith("lib"):
            roots.append(path.name)
    reached: set[str] = set()
    stack = list(roots)
    while stack:
        for dependency in by_name.get(stack.pop(), ()):
            if dependency not in reached:
                reached.add(dependency)
                stack.append(dependency)
    return reached


def strip_tool(target: Target) -> list[str] | None:
    """A ``strip`` that understands the target's ELF machine: llvm-strip (any), the native strip, or a cross one."""
    for name in ("llvm-strip", *(f"llvm-strip-{v}" for v in range(30, 10, -1))):
        if shutil.which(name):
            return [name, "--strip-unneeded"]
    if os.uname().machine == target.machine and shutil.which("strip"):
        return ["strip", "--strip-unneeded"]
    cross = f"{target.machine}-linux-gnu-strip"
    if shutil.which(cross):
        return [cross, "--strip-unneeded"]
    return None


def no_strip_tool(target: Target) -> PackagingError:
    return PackagingError(f"no strip tool for {target.machine} ELF files; install llvm (llvm-strip) or binutils "
                          "for the target, or pass --no-strip")


def strip_binaries(site: Path, target: Target, report: TrimReport, tool: list[str]) -> None:
    """Strip symbol tables and debug sections from every target ELF file (the loader never reads them)."""
    report.strip_tool = tool[0]
    objects = [p for p in _files(site) if _SHARED_LIBRARY.search(p.name) and (info := read_elf(p)) is not None
               and info.machine == target.elf_machine]
    before = sum(p.stat().st_size for p in objects)
    for start in range(0, len(objects), 50):
        batch = objects[start:start + 50]
        result = subprocess.run([*tool, *map(str, batch)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            # One odd object must not stop the build: retry one by one and keep the ones strip rejects as they are.
            for path in batch:
                single = subprocess.run([*tool, str(path)], capture_output=True, text=True, check=False)
                if single.returncode != 0:
                    report.warnings.append(f"not stripped: {path.relative_to(site)}: {single.stderr.strip()[:200]}")
    report.stripped_bytes = before - sum(p.stat().st_size for p in objects)


def _files(root: Path) -> Iterator[Path]:
    for directory, _subdirs, files in os.walk(root):
        for name in files:
            yield Path(directory) / name


def _tree_size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in _files(path))
    return path.stat().st_size


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
