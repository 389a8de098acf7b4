"""``afq package ADAPTER``: one adapter's Lambda zip, slim and byte-compiled for the runtime.

Steps: the adapter's extras pinned by the project's ``uv.lock`` -> those exact wheels installed for the target,
trimmed, stripped and byte-compiled into a *site* cached by the locked pins and builder version -> the
framework's own packages (connector, adapters, spill) copied from the source tree and compiled -> a
deterministic zip, cached by the site and the framework's content. Rebuilding with nothing changed copies the
cached zip.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zipfile import ZipFile

from connector.packaging.archive import byte_compile, write_zip
from connector.packaging.lock import install, installed_distributions, locked_requirements, pinned_versions
from connector.packaging.requirements import RUNTIME_PROVIDED, AdapterBundle, adapter_bundle
from connector.packaging.targets import PackagingError, Target, find_interpreter
from connector.packaging.trim import no_strip_tool, strip_binaries, strip_tool, trim

#: Bumped whenever a trimming rule changes, so cached sites built by older rules are not reused.
BUILDER_VERSION = "6"
FRAMEWORK_PACKAGES = ("connector", "adapters", "spill")
#: Parts of the framework that only run on a developer's machine: the builder, and the local Athena with its
#: command line and demo (they need DuckDB, which no bundle holds). A directory excludes everything below it.
EXCLUDED_FROM_BUNDLE = ("connector/packaging", "connector/local", "connector/cli.py", "connector/demo.py",
                        "connector/demo_data.py")
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
#: Cache bounds (least recently used go first): a site is ~100-130 MB, a zip ~35-50 MB.
KEEP_SITES = 12
KEEP_ZIPS_PER_BUNDLE = 2
MANIFEST_NAME = "afq-bundle.json"


@dataclass(frozen=True)
class BuildOptions:
    adapter: str
    out: Path
    arch: str = "x86_64"
    python: str = "3.12"
    cache: Path | None = None
    interpreter: str | None = None
    strip: bool = True
    teradata_fips: bool = False
    #: Hash-pinned requirement files added to the lock's pins (an adapter package and its driver).
    requirement_files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class BuildResult:
    zip_path: Path
    zipped_bytes: int
    unzipped_bytes: int
    entries: int
    manifest: dict[str, Any]
    trim: dict[str, Any] = field(default_factory=dict)
    from_cache: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        mb = 1024 * 1024
        return (f"{self.zip_path}: {self.zipped_bytes / mb:.1f} MB zipped, {self.unzipped_bytes / mb:.1f} MB "
                f"unzipped, {self.entries} files ({'cached' if self.from_cache else 'built'} in "
                f"{self.seconds:.1f} s)")


def bundle_name(adapter: str, target: Target) -> str:
    """``afq-oracle-py312-x86_64``: the zip's name, which the SAM templates' CodeUri refers to."""
    return f"afq-{adapter}-{target.name}"


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def default_cache() -> Path:
    explicit = os.environ.get("AFQ_CACHE_DIR")
    base = Path(explicit) if explicit else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "afq"
    return base / "package"


def framework_sources() -> dict[str, Path]:
    """Where the framework's packages live (an editable install or a checkout: the source tree)."""
    found: dict[str, Path] = {}
    for name in FRAMEWORK_PACKAGES:
        spec = importlib.util.find_spec(name)
        locations = list(spec.submodule_search_locations or []) if spec else []
        if not locations:
            raise PackagingError(f"cannot find the {name!r} package to put into the bundle")
        found[name] = Path(locations[0])
    return found


def build_bundle(options: BuildOptions) -> BuildResult:
    started = time.monotonic()
    bundle = adapter_bundle(options.adapter)
    target = Target.of(options.python, options.arch)
    cache = options.cache or default_cache()
    packages = framework_sources()
    source_root = packages["connector"].parent
    _check_modules(bundle, source_root)
    requirements = [locked_requirements(source_root, extras=bundle.extras, prune=RUNTIME_PROVIDED),
                     *(_read_requirement_file(path) for path in options.requirement_files)]
    tool = strip_tool(target) if options.strip else None
    if options.strip and tool is None:
        raise no_strip_tool(target)
    interpreter = find_interpreter(target.python, options.interpreter)
    interpreter_version = subprocess.run([interpreter, "-c", "import sys; print(sys.version)"], capture_output=True,
                                         text=True, check=True).stdout.strip()

    site_key = digest(BUILDER_VERSION, target.name, requirements, options.teradata_fips,
                      tool[0] if tool else None, interpreter_version)
    site = cache / "sites" / f"{target.name}-{site_key}"
    if not site.is_dir():
        _build_site(site, requirements, target, tool, interpreter, options.teradata_fips)
    os.utime(site)  # recently used: pruning keeps it
    trim_report = json.loads((site.parent / f"{site.name}.json").read_text(encoding="utf-8"))

    artifacts = _artifacts(bundle)
    manifest = {"adapter": bundle.name, "summary": bundle.summary, "python": target.python,
                "architecture": target.lambda_arch, "handler": "connector.handler.lambda_handler",
                "builder": BUILDER_VERSION, "distributions": _checked_distributions(site, requirements)}
    if artifacts:
        manifest["artifacts"] = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(artifacts.items())}
    manifest_bytes = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    framework_hash = _framework_hash(packages)
    bundle_key = digest(site_key, framework_hash, manifest_bytes.decode())
    name = bundle_name(bundle.name, target)
    cached_zip = cache / "bundles" / f"{name}-{bundle_key}.zip"
    from_cache = cached_zip.is_file()
    if not from_cache:
        with tempfile.TemporaryDirectory(prefix="afq-framework-", dir=cache) as tmp:
            staging = Path(tmp) / "task"
            _copy_framework(packages, staging)
            failures = byte_compile(staging, interpreter)
            if failures:
                raise PackagingError("the framework does not compile with python" + target.python + ":\n" +
                                     "\n".join(failures[:10]))
            write_zip([site, staging], cached_zip, {MANIFEST_NAME: manifest_bytes, **artifacts})
    os.utime(cached_zip)
    _prune(cache, name)

    with ZipFile(cached_zip) as archive:
        infos = archive.infolist()
    unzipped = sum(i.file_size for i in infos)
    if unzipped > LAMBDA_UNZIPPED_LIMIT:
        raise PackagingError(f"the {bundle.name} bundle is {unzipped / 2**20:.0f} MB unzipped, over Lambda's "
                             f"250 MB limit")
    options.out.mkdir(parents=True, exist_ok=True)
    zip_path = options.out / f"{name}.zip"
    shutil.copyfile(cached_zip, zip_path)
    result = BuildResult(zip_path, zip_path.stat().st_size, unzipped, len(infos), manifest, trim_report,
                         from_cache, time.monotonic() - started)
    report = {**manifest, "zip": zip_path.name, "zipped_bytes": result.zipped_bytes,
              "unzipped_bytes": result.unzipped_bytes, "files": result.entries,
              "sha256": _sha256(zip_path), "trim": trim_report}
    (options.out / f"{name}.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return result


def _prune(cache: Path, name: str) -> None:
    """Bound the cache: the newest sites overall, and the newest zips of this bundle name."""
    sites = sorted((p for p in (cache / "sites").iterdir() if p.is_dir() and not p.name.startswith(".")),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    for old in sites[KEEP_SITES:]:
        shutil.rmtree(old, ignore_errors=True)
        old.with_name(old.name + ".json").unlink(missing_ok=True)
    zips = sorted((cache / "bundles").glob(f"{name}-*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in zips[KEEP_ZIPS_PER_BUNDLE:]:
        old.unlink(missing_ok=True)


def _check_modules(bundle: AdapterBundle, source_root: Path) -> None:
    for module in bundle.modules:
        if importlib.util.find_spec(module) is None:
            path = source_root / (module.replace(".", "/") + ".py")
            raise PackagingError(f"the {bundle.name} bundle needs the module {module} ({path}), which this source "
                                 f"tree does not have")


def _build_site(site: Path, requirements: Sequence[str], target: Target, tool: list[str] | None,
                interpreter: str, keep_fips: bool) -> None:
    site.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{site.name}-", dir=site.parent))
    try:
        files = []
        for index, text in enumerate(requirements):
            files.append(work.with_name(f"{work.name}.requirements-{index}.txt"))
            files[-1].write_text(text, encoding="utf-8")
        install(files, target, work)
        report = trim(work, target, keep_fips=keep_fips)
        if tool is not None:
            strip_binaries(work, target, report, tool)
        report.warnings += [f"not byte-compiled: {line}" for line in byte_compile(work, interpreter)]
        (site.parent / f"{site.name}.json").write_text(json.dumps(report.to_json(), indent=1), encoding="utf-8")
        try:
            os.rename(work, site)
        except OSError:
            if not site.is_dir():  # another build finished the same site first: use theirs
                raise
    finally:
        for leftover in site.parent.glob(f"{work.name}.requirements-*.txt"):
            leftover.unlink()
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _artifacts(bundle: AdapterBundle) -> dict[str, bytes]:
    """The files built for this bundle (the JDBC helper's jar...); the manifest records their hashes, so the
    bundle's cache key follows them."""
    files: dict[str, bytes] = {}
    for reference in bundle.artifacts:
        module, _, function = reference.partition(":")
        try:
            built = getattr(importlib.import_module(module), function)()
        except Exception as e:  # a missing compiler, a failed build: the builder's message says which
            raise PackagingError(f"cannot build {reference} for the {bundle.name} bundle: {e}") from None
        files.update(built)
    return files


def _read_requirement_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise PackagingError(f"cannot read the requirements file {path}: {e.strerror or e}") from None


def _checked_distributions(site: Path, requirements: Sequence[str]) -> dict[str, str]:
    """What the site holds, refused unless every distribution is pinned at exactly that version."""
    pinned: dict[str, str] = {}
    for text in requirements:
        pinned.update(pinned_versions(text))
    installed = installed_distributions(site)
    wrong = {name: version for name, version in installed.items() if pinned.get(name) != version}
    if wrong:
        raise PackagingError("the bundle holds distributions the lock does not pin at that version: " +
                             ", ".join(f"{n} {v} (pinned: {pinned.get(n, 'not at all')})" for n, v in wrong.items()))
    return installed


def _framework_files(packages: dict[str, Path]) -> Iterator[tuple[str, Path]]:
    for name, root in sorted(packages.items()):
        for directory, subdirs, files in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not d.endswith(".egg-info"))
            for file in sorted(files):
                if file.endswith((".pyc", ".pyo")):
                    continue
                path = Path(directory) / file
                arcname = f"{name}/{path.relative_to(root).as_posix()}"
                if any(arcname == excluded or arcname.startswith(excluded + "/") for excluded in EXCLUDED_FROM_BUNDLE):
                    continue
                yield arcname, path


def _framework_hash(packages: dict[str, Path]) -> str:
    h = hashlib.sha256()
    for arcname, path in _framework_files(packages):
        h.update(arcname.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _copy_framework(packages: dict[str, Path], staging: Path) -> None:
    for arcname, path in _framework_files(packages):
        destination = staging / arcname
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
