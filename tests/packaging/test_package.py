"""``afq package`` pieces without building a whole bundle: locked requirements per adapter, targets, the ELF
reader, the trimming rules, pyc and zip, hash-checked installs, the cache, and the command line."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector import cli
from connector.packaging import PackagingError, Target
from connector.packaging.archive import byte_compile, write_zip
from connector.packaging.elf import read_elf
from connector.packaging.lock import (
    install,
    installed_distributions,
    lock_versions,
    locked_requirements,
    normalize,
    pinned_versions,
)
from connector.packaging.requirements import RUNTIME_PROVIDED, adapter_bundle, bundles
from connector.packaging.targets import find_interpreter
from connector.packaging.trim import trim
from tests.support.elf_files import AARCH64, X86_64, elf32_bytes, elf_bytes, write

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------------- requirements


DRIVERS = {"oracledb", "snowflake-connector-python", "teradatasql", "jpype1", "jaydebeapi"}


@pytest.mark.parametrize(("adapter", "driver"), [
    ("sqlite", set()), ("generic", {"jpype1", "jaydebeapi"}), ("oracle", {"oracledb"}),
    ("snowflake", {"snowflake-connector-python"}), ("teradata", {"teradatasql"})])
def test_each_bundle_gets_the_locked_base_and_only_its_own_driver(adapter: str, driver: set[str]) -> None:
    text = locked_requirements(REPO, extras=adapter_bundle(adapter).extras, prune=RUNTIME_PROVIDED)
    pins = pinned_versions(text)
    assert {"pyarrow", "sqlglot", "cryptography"} | driver <= set(pins)
    assert not (DRIVERS - driver) & set(pins)
    assert not RUNTIME_PROVIDED & set(pins)  # the Lambda runtime provides the AWS SDK
    locked = lock_versions(REPO / "uv.lock")  # read from the file, not through uv
    assert all(version in locked[name] for name, version in pins.items())
    # every pin carries its hashes, so the install refuses a file that differs from what was locked
    blocks = text.replace("\\\n", " ").splitlines()
    assert [b for b in blocks if pinned_versions(b)] and all("--hash=sha256:" in b for b in blocks if b.strip())


def test_jdbc_is_the_generic_bundle_and_unknown_adapters_are_named() -> None:
    assert adapter_bundle("JDBC") is bundles()["generic"]
    with pytest.raises(PackagingError,
                       match=r"unknown adapter 'mysql'; choose one of .*generic.*sqlite.*jdbc = generic"):
        adapter_bundle("mysql")


def test_an_extra_the_project_does_not_declare_is_a_clear_error() -> None:
    with pytest.raises(PackagingError, match=r"(?s)uv failed to export the locked requirements of oracle, nosuch.*"
                                             r"nosuch"):
        locked_requirements(REPO, extras=["oracle", "nosuch"])


def test_a_checkout_without_a_lock_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    with pytest.raises(PackagingError, match=r"uv.lock does not exist: bundles install exactly the versions"):
        locked_requirements(tmp_path, extras=["aws"])


_name = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}([-_.][A-Za-z0-9]{1,5})?", fullmatch=True)
_version = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}(\.post[0-9]|rc[0-9])?", fullmatch=True)
_marker = st.sampled_from(["", " ; platform_python_implementation != 'PyPy'", " ; sys_platform == 'win32'"])


@given(pins=st.lists(st.tuples(_name, _version, _marker, st.integers(0, 3)), max_size=6,
                     unique_by=lambda p: normalize(p[0])))
def test_pinned_versions_reads_every_pin_of_an_exported_lock(pins: list[tuple[str, str, str, int]]) -> None:
    lines = []
    for name, version, marker, hashes in pins:
        lines.append(f"{name}=={version}{marker}" + (" \\" if hashes else ""))
        lines += [f"    --hash=sha256:{i:064x}" + (" \\" if i < hashes - 1 else "") for i in range(hashes)]
    assert pinned_versions("\n".join(lines)) == {normalize(n): v for n, v, _, _ in pins}


# ------------------------------------------------------------------------------------------------------ targets


def test_the_uv_platform_is_the_runtime_glibc_and_machine() -> None:
    assert Target.of("3.12", "arm64").uv_platform == "aarch64-manylinux_2_34"
    x86 = Target.of("3.13", "x86_64")
    assert x86.uv_platform == "x86_64-manylinux_2_34" and x86.cpython_tag == "cp313" and x86.name == "py313-x86_64"


@pytest.mark.parametrize(("python", "arch", "message"), [("3.11", "x86_64", "--python 3.11 is not a Lambda runtime"),
                                                         ("3.12", "ppc64le", "--arch ppc64le is not a Lambda")])
def test_unsupported_targets_are_named(python: str, arch: str, message: str) -> None:
    with pytest.raises(PackagingError, match=message):
        Target.of(python, arch)


def test_an_interpreter_of_the_wrong_version_is_refused() -> None:
    with pytest.raises(PackagingError, match=f"--interpreter {sys.executable} is not a Python 3.14 executable"):
        find_interpreter("3.14", sys.executable)


# ---------------------------------------------------------------------------------------------------------- ELF


@given(needed=st.lists(st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30),
                       max_size=6),
       soname=st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30),
       machine=st.sampled_from([X86_64, AARCH64]))
def test_elf_reader_round_trips_needed_and_soname(tmp_path_factory: pytest.TempPathFactory, needed: list[str],
                                                  soname: str | None, machine: int) -> None:
    path = write(tmp_path_factory.mktemp("elf") / "lib.so", elf_bytes(machine, needed, soname))
    info = read_elf(path)
    assert info is not None and info.elf64_le and info.machine == machine
    assert list(info.needed) == needed and info.soname == soname


@given(tail=st.binary(max_size=400))
def test_elf_reader_never_raises_on_damaged_files(tmp_path_factory: pytest.TempPathFactory, tail: bytes) -> None:
    path = write(tmp_path_factory.mktemp("elf") / "bad.so", b"\x7fELF\x02\x01" + tail)
    info = read_elf(path)
    assert info is None or isinstance(info.needed, tuple)


def test_elf_reader_agrees_with_readelf_on_real_libraries() -> None:
    import pyarrow

    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) is not installed")
    libraries = sorted(Path(pyarrow.__file__).parent.glob("lib*.so*"))[:6]
    assert libraries
    for library in libraries:
        out = subprocess.run([readelf, "-d", str(library)], capture_output=True, text=True, check=True).stdout
        expected = [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]
        info = read_elf(library)
        assert info is not None and list(info.needed) == expected, library


# ----------------------------------------------------------------------------------------------------- trimming


def fake_site(root: Path, machine: int = X86_64) -> Path:
    """A site as pip installs it for ``machine`` (teradatasql ships every platform's library regardless)."""
    tag = "x86_64" if machine == X86_64 else "aarch64"
    pa = root / "pyarrow"
    write(pa / "__init__.py", b"")
    write(pa / f"lib.cpython-312-{tag}-linux-gnu.so", elf_bytes(machine, ["libarrow.so.2600", "libc.so.6"]))
    write(pa / f"_compute.cpython-312-{tag}-linux-gnu.so", elf_bytes(machine, ["libarrow_compute.so.2600"]))
    write(pa / "libarrow.so.2600", elf_bytes(machine, ["libc.so.6"], "libarrow.so.2600"))
    write(pa / "libarrow.so", elf_bytes(machine, ["libc.so.6"], "libarrow.so.2600"))  # a second copy, link name
    write(pa / "libarrow_compute.so.2600", elf_bytes(machine, ["libarrow.so.2600"], "libarrow_compute.so.2600"))
    write(pa / "libarrow_flight.so.2600", elf_bytes(machine, ["libarrow.so.2600"], "libarrow_flight.so.2600"))
    write(pa / f"_flight.cpython-312-{tag}-linux-gnu.so", elf_bytes(machine, ["libarrow_flight.so.2600"]))
    write(pa / "flight.py", b"from pyarrow._flight import *\n")
    write(pa / "compute.py", b"")
    write(pa / "lib.pyx", b"# cython\n")
    write(pa / "include" / "arrow" / "api.h", b"// header\n")
    write(pa / "tests" / "test_x.py", b"")
    write(pa / "parquet" / "encryption.py", b"")
    write(pa / "parquet" / "core.py", b"")
    td = root / "teradatasql"
    write(td / "__init__.py", b"")
    write(td / "teradatasql.so", elf_bytes(X86_64))
    write(td / "teradatasql.fips.so", elf_bytes(X86_64))
    write(td / "teradatasql.arm.so", elf_bytes(AARCH64))
    write(td / "teradatasql.arm.fips.so", elf_bytes(AARCH64))
    write(td / "teradatasql.x86.so", elf32_bytes())
    write(td / "teradatasql.dll", b"MZ\x90\x00" + bytes(60))
    write(td / "teradatasql.dylib", b"\xcf\xfa\xed\xfe" + bytes(60))
    write(td / "teradatasql.aix.so", b"<bigaf>\n" + bytes(60))
    write(root / "drv" / f"_core.cpython-311-{tag}-linux-gnu.so", elf_bytes(machine))
    write(root / "drv" / f"_core.cpython-312-{tag}-linux-gnu.so", elf_bytes(machine))
    write(root / "drv" / "_core.pyi", b"")
    write(root / "drv" / "conftest.py", b"")
    write(root / "bin" / "drv-cli", b"#!/bin/sh\n")
    write(root / "drv-1.0.dist-info" / "METADATA", b"Name: drv\n")
    write(root / "drv-1.0.dist-info" / "entry_points.txt", b"[afq.adapters]\ndrv = drv:Adapter\n")
    write(root / "drv-1.0.dist-info" / "RECORD", b"drv/__init__.py,,\n")
    write(root / "drv-1.0.dist-info" / "direct_url.json", b'{"url": "file:///home/me/.cache/afq/wheels/drv.whl"}')
    return root


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_trimming_keeps_exactly_what_the_target_loads(tmp_path: Path) -> None:
    site = fake_site(tmp_path / "site")
    report = trim(site, Target.of("3.12", "x86_64"))
    assert files(site) == {
        "pyarrow/__init__.py", "pyarrow/lib.cpython-312-x86_64-linux-gnu.so",
        "pyarrow/_compute.cpython-312-x86_64-linux-gnu.so", "pyarrow/libarrow.so.2600",
        "pyarrow/libarrow_compute.so.2600", "pyarrow/compute.py", "pyarrow/parquet/core.py",
        "teradatasql/__init__.py", "teradatasql/teradatasql.so",
        "drv/_core.cpython-312-x86_64-linux-gnu.so", "drv-1.0.dist-info/METADATA",
        "drv-1.0.dist-info/entry_points.txt"}
    assert report.removed_files["libraries for other platforms"] == 6  # arm x2, x86 (32-bit), dll, dylib, aix
    assert report.removed_files["extension modules for other Python versions"] == 1
    assert report.removed_bytes["pyarrow libraries nothing links (Flight, S3, duplicate link names)"] > 0


def test_trimming_for_arm64_keeps_the_arm_library_and_fips_when_asked(tmp_path: Path) -> None:
    site = fake_site(tmp_path / "site", AARCH64)
    trim(site, Target.of("3.12", "arm64"), keep_fips=True)
    assert sorted(p.name for p in (site / "teradatasql").glob("*.so")) == ["teradatasql.arm.fips.so",
                                                                          "teradatasql.arm.so"]
    assert sorted(p.name for p in (site / "pyarrow").glob("lib*.so*")) == [
        "lib.cpython-312-aarch64-linux-gnu.so", "libarrow.so.2600", "libarrow_compute.so.2600"]


# ----------------------------------------------------------------------------------------------- pyc and zip


def test_zip_is_byte_identical_whatever_the_file_times(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for root, when in ((one, 1_000_000_000), (two, 1_700_000_000)):
        write(root / "b" / "mod.py", b"x = 1\n")
        write(root / "a.so", b"\x7fELF")
        os.chmod(root / "a.so", 0o755)
        for path in root.rglob("*"):
            os.utime(path, (when, when))
    total, entries = write_zip([one], tmp_path / "1.zip", {"manifest.json": b"{}"})
    write_zip([two], tmp_path / "2.zip", {"manifest.json": b"{}"})
    assert (tmp_path / "1.zip").read_bytes() == (tmp_path / "2.zip").read_bytes()
    assert (total, entries) == (6 + 4 + 2, 3)
    with zipfile.ZipFile(tmp_path / "1.zip") as archive:
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        assert archive.namelist() == ["a.so", "b/mod.py", "manifest.json"]
    assert modes == {"a.so": 0o100755, "b/mod.py": 0o100644, "manifest.json": 0o100644}


def test_a_file_in_two_roots_is_an_error_not_a_silent_shadow(tmp_path: Path) -> None:
    write(tmp_path / "site" / "connector" / "__init__.py", b"")
    write(tmp_path / "framework" / "connector" / "__init__.py", b"")
    with pytest.raises(PackagingError, match=r"connector/__init__\.py comes from two places"):
        write_zip([tmp_path / "site", tmp_path / "framework"], tmp_path / "x.zip")


def test_byte_compiling_writes_unchecked_hash_pycs_naming_var_task(tmp_path: Path) -> None:
    write(tmp_path / "pkg" / "mod.py", b"def f():\n    return 1\n")
    write(tmp_path / "pkg" / "py2.py", b"print 'old'\n")
    failures = byte_compile(tmp_path, sys.executable)
    assert len(failures) == 1 and "py2.py" in failures[0]
    tag = sys.implementation.cache_tag
    data = (tmp_path / "pkg" / "__pycache__" / f"mod.{tag}.pyc").read_bytes()
    import importlib.util
    import marshal

    assert data[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(data[4:8], "little") == 1
    assert marshal.loads(data[16:]).co_filename == "/var/task/pkg/mod.py"


# --------------------------------------------------------------------------------------------------- the wheels


def make_wheel(directory: Path, name: str = "afq_demo_pkg", version: str = "1.0") -> Path:
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    directory.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{name}/__init__.py", "VALUE = 42\n")
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                          "Tag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")
    return wheel


def test_installs_are_hash_checked_and_report_what_the_site_holds(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "index")
    good = hashlib.sha256(wheel.read_bytes()).hexdigest()
    target = Target.of("3.12", "x86_64")
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{wheel} --hash=sha256:{'0' * 64}\n")
    with pytest.raises(PackagingError, match=r"(?s)uv failed to install the locked wheels.*hash"):
        install([bad], target, tmp_path / "bad-site")
    unhashed = tmp_path / "unhashed.txt"
    unhashed.write_text(f"{wheel}\n")
    with pytest.raises(PackagingError, match=r"(?i)(?s)uv failed to install.*hash"):
        install([unhashed], target, tmp_path / "unhashed-site")
    pinned = tmp_path / "good.txt"
    pinned.write_text(f"{wheel} --hash=sha256:{good}\n")
    install([pinned], target, tmp_path / "site")
    assert (tmp_path / "site" / "afq_demo_pkg" / "__init__.py").read_text() == "VALUE = 42\n"
    assert installed_distributions(tmp_path / "site") == {"afq-demo-pkg": "1.0"}


def test_the_cache_keeps_the_most_recently_used_sites_and_zips(tmp_path: Path) -> None:
    from connector.packaging.build import KEEP_SITES, KEEP_ZIPS_PER_BUNDLE, _prune

    for i in range(KEEP_SITES + 3):
        site = tmp_path / "sites" / f"py312-x86_64-{i:02d}"
        write(site / "pyarrow" / "__init__.py", b"")
        write(site.with_name(site.name + ".json"), b"{}")
        os.utime(site, (1_000 + i, 1_000 + i))
    write(tmp_path / "sites" / ".py312-x86_64-building" / "x.py", b"")  # another build in progress
    for i in range(4):
        os.utime(write(tmp_path / "bundles" / f"afq-oracle-py312-x86_64-{i}.zip", b"z"), (1_000 + i, 1_000 + i))
    write(tmp_path / "bundles" / "afq-sqlite-py312-x86_64-0.zip", b"z")
    _prune(tmp_path, "afq-oracle-py312-x86_64")
    kept = sorted(p.name for p in (tmp_path / "sites").iterdir() if p.is_dir())
    assert kept == [".py312-x86_64-building"] + [f"py312-x86_64-{i:02d}" for i in range(3, KEEP_SITES + 3)]
    assert not (tmp_path / "sites" / "py312-x86_64-00.json").exists()
    assert sorted(p.name for p in (tmp_path / "bundles").iterdir()) == [
        *(f"afq-oracle-py312-x86_64-{i}.zip" for i in range(4 - KEEP_ZIPS_PER_BUNDLE, 4)),
        "afq-sqlite-py312-x86_64-0.zip"]


# ------------------------------------------------------------------------------------------------ command line


def test_package_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["package", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--out", "--arch", "--python", "--cache", "--requirements", "--teradata-fips"):
        assert option in out


def test_package_of_an_unknown_adapter_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["package", "mysql", "--out", str(tmp_path)]) == 2
    assert "unknown adapter 'mysql'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_the_framework_in_a_bundle_leaves_out_what_only_runs_locally() -> None:
    """The Lambda never imports the local Athena, the CLI or the demo (DuckDB is not bundled): they stay out."""
    from connector.packaging.build import FRAMEWORK_PACKAGES, _framework_files

    root = Path(__file__).resolve().parents[2]
    names = {arcname for arcname, _ in _framework_files({p: root / p for p in FRAMEWORK_PACKAGES})}
    assert {"connector/handler.py", "connector/service.py", "adapters/sqlite/adapter.py", "spill/writer.py"} <= names
    local_only = {n for n in names if n.startswith(("connector/local/", "connector/packaging/"))
                  or n in ("connector/cli.py", "connector/demo.py", "connector/demo_data.py")}
    assert not local_only
    # ...and nothing that is bundled imports them.
    for name in names:
        if name.endswith(".py"):
            text = (root / name).read_text()
            assert "connector.local" not in text and "connector.cli" not in text and "connector.demo" not in text, name
