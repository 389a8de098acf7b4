"""The JDBC adapter's Java helper (``adapters/jdbc/java/*.java``): compiled reproducibly, found, loaded into the JVM.

The helper reads result sets into Arrow buffers a batch at a time (``adapters.jdbc.columnar``). It ships as
source and is compiled with the JDK's ``javac`` - no prebuilt binary is kept in the repository:

* ``make jdbc-helper`` (and ``python -m adapters.jdbc.helper``) compiles it into the user cache
  (``$AFQ_CACHE_DIR/jdbc`` or ``~/.cache/afq/jdbc``); the first use in a process compiles it there too if it is
  missing, when a ``javac`` is installed;
* ``afq package generic`` puts the jar into the bundle next to the source (``adapters/jdbc/java/<jar>``), where
  Lambda finds it on its read-only file system.

The jar's name carries a hash of the sources and compiler options, so a jar built from other sources is never
used. Builds are reproducible: ``javac`` writes no timestamps into class files, and the jar is written here with
sorted, stored (uncompressed) entries and fixed times, so the same sources and JDK give the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger("afq.jdbc")

SOURCE_DIR = Path(__file__).resolve().parent / "java"
#: Bytecode for Java 11 and later (Lambda layers and Debian's JDK); line numbers kept for stack traces.
JAVAC_OPTIONS = ("--release", "11", "-encoding", "UTF-8", "-g:source,lines", "-Xlint:-options")
HELPER_CLASS = "afq.jdbc.ColumnarReader"
JAR_PREFIX = "afq-jdbc-helper-"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

_lock = threading.Lock()
_loaders: dict[str, Any] = {}
_loaded: dict[str, Any] = {}  # the class, once loaded: a JVM lives as long as its process


class HelperUnavailable(RuntimeError):
    """The helper can be neither found nor compiled here (no ``javac``); the caller reads values one by one."""


def sources() -> list[Path]:
    return sorted(SOURCE_DIR.glob("*.java"))


@cache
def jar_name() -> str:
    """``afq-jdbc-helper-<hash>.jar``: the hash covers the sources and the compiler options."""
    h = hashlib.sha256(repr(JAVAC_OPTIONS).encode())
    for path in sources():
        h.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return f"{JAR_PREFIX}{h.hexdigest()[:16]}.jar"


def cache_dir() -> Path:
    explicit = os.environ.get("AFQ_CACHE_DIR")
    base = Path(explicit) if explicit else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "afq"
    return base / "jdbc"


def javac() -> str | None:
    """The JDK compiler: ``$JAVA_HOME/bin/javac`` when set, else the one on ``PATH``."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "javac"), os.X_OK):
        return os.path.join(home, "bin", "javac")
    return shutil.which("javac")


def javac_version(compiler: str) -> str:
    out = subprocess.run([compiler, "-version"], capture_output=True, text=True, check=False, timeout=60)
    return (out.stdout or out.stderr).strip()


def build_jar(out: Path, compiler: str | None = None) -> Path:
    """Compile the sources and write the jar to ``out`` (atomically); the same inputs give the same bytes."""
    compiler = compiler or javac()
    if compiler is None:
        raise HelperUnavailable("no javac found to compile the JDBC helper (install a JDK, e.g. Debian's "
                                "default-jdk-headless, or set JAVA_HOME)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="afq-javac-") as tmp:
        classes = Path(tmp) / "classes"
        command = [compiler, *JAVAC_OPTIONS, "-d", str(classes), *(str(p) for p in sources())]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300,
                                env={**os.environ, "LC_ALL": "C"})
        if result.returncode != 0:
            raise HelperUnavailable(f"javac failed on the JDBC helper: {(result.stderr or result.stdout)[-2000:]}")
        entries = {p.relative_to(classes).as_posix(): p.read_bytes()
                   for p in sorted(classes.rglob("*.class"))}
        manifest = (f"Manifest-Version: 1.0\r\nCreated-By: {javac_version(compiler)} (afq)\r\n\r\n").encode()
        tmp_jar = Path(tmp) / out.name
        write_jar(tmp_jar, {"META-INF/MANIFEST.MF": manifest, **entries})
        partial = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        shutil.copyfile(tmp_jar, partial)
        os.replace(partial, out)
    return out


def write_jar(path: Path, entries: dict[str, bytes]) -> None:
    """A jar (a zip) with its directories, sorted entries, fixed times and modes, stored uncompressed."""
    directories = {"/".join(name.split("/")[:i]) + "/" for name in entries for i in range(1, name.count("/") + 1)}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as jar:
        # The manifest comes first, as java.util.jar.JarInputStream expects.
        first = ["META-INF/", "META-INF/MANIFEST.MF"]
        ordered = [*first, *sorted((directories | set(entries)) - set(first))]
        for name in ordered:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.create_system = 3
            info.external_attr = (0o40755 << 16) | 0x10 if name.endswith("/") else 0o100644 << 16
            jar.writestr(info, b"" if name.endswith("/") else entries[name])


def bundled_jar() -> Path:
    """Where a Lambda bundle carries the jar (``afq package generic`` puts it there)."""
    return SOURCE_DIR / jar_name()


def find_jar(*, compile_missing: bool = True) -> Path:
    """The helper jar for these sources: bundled, else cached, else compiled into the cache."""
    for candidate in (bundled_jar(), cache_dir() / jar_name()):
        if candidate.is_file():
            return candidate
    if not compile_missing:
        raise HelperUnavailable(f"the JDBC helper {jar_name()} is not built (run `make jdbc-helper`)")
    return build_jar(cache_dir() / jar_name())


def bundle_files() -> dict[str, bytes]:
    """The files ``afq package generic`` adds to the bundle: the jar, compiled for these sources."""
    jar = find_jar()
    return {f"adapters/jdbc/java/{jar.name}": jar.read_bytes()}


def helper_class() -> Any:
    """The ``ColumnarReader`` class in the running JVM: from its class path, else from the helper jar through
    its own class loader (a JVM started elsewhere, or before the jar was built)."""
    import jpype

    found = _loaded.get("class")
    if found is not None:
        return found
    try:
        found = jpype.JClass(HELPER_CLASS)
    except Exception:  # not on the JVM's class path
        jar = str(find_jar())
        with _lock:
            loader = _loaders.get(jar)
            if loader is None:
                url = jpype.JClass("java.io.File")(jar).toURI().toURL()
                urls = jpype.JArray(jpype.JClass("java.net.URL"))([url])
                loader = jpype.JClass("java.net.URLClassLoader")(
                    urls, jpype.JClass("java.lang.ClassLoader").getSystemClassLoader())
                _loaders[jar] = loader
        found = jpype.JClass(HELPER_CLASS, loader=loader)
    _loaded["class"] = found
    return found


def main(argv: list[str] | None = None) -> int:
    """``python -m adapters.jdbc.helper [--out JAR]``: build the helper (into the cache by default)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        if args[:1] == ["--out"] and len(args) == 2:
            path = build_jar(Path(args[1]))
        elif not args:
            path = find_jar()
        else:
            print("usage: python -m adapters.jdbc.helper [--out JAR]", file=sys.stderr)
            return 2
    except HelperUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
