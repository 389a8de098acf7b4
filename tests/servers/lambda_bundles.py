"""Lambda bundles built by ``afq package`` once per session, unpacked, and run for real.

A bundle runs under ``awslambdaric`` (the runtime client of the Lambda Python runtime) with the runtime's Python
(3.12), against the loopback Runtime API of ``connector.local.runtime_api`` (the one ``afq`` uses). The
interpreter starts with ``-S`` and a clean environment so nothing from this machine's site-packages can stand in
for what the bundle lacks; the only other path is a *runtime site* holding what the Lambda runtime itself
provides (awslambdaric, boto3).

Builds go through the builder's own cache (``$AFQ_CACHE_DIR`` or ``~/.cache/afq``), keyed by the exact wheels,
the builder version and the framework's content: the first session builds, later ones reuse.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connector.local.errors import LambdaFunctionError
from connector.local.runtime_api import RuntimeTarget
from connector.packaging import BuildOptions, BuildResult, PackagingError, Target, build_bundle, default_cache
from connector.packaging.build import digest
from connector.packaging.lock import install, locked_requirements
from connector.packaging.requirements import adapter_bundle
from connector.packaging.targets import find_interpreter

PYTHON = "3.12"
FUNCTION_NAME = "afq-bundle-test"
HOST_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}.get(os.uname().machine, "x86_64")
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Bundle:
    adapter: str
    arch: str
    result: BuildResult
    root: Path  # the unpacked zip: what Lambda puts in /var/task

    @property
    def zip_path(self) -> Path:
        return self.result.zip_path


def adapter_module_present(adapter: str) -> bool:
    return all((REPO / (m.replace(".", "/") + ".py")).is_file() for m in adapter_bundle(adapter).modules)


@pytest.fixture(scope="session")
def bundle_interpreter() -> str:
    try:
        return find_interpreter(PYTHON)
    except PackagingError as e:
        pytest.skip(f"bundle tests need the Lambda runtime's Python: {e}")


@pytest.fixture(scope="session")
def bundle_cache() -> Path:
    return default_cache()


@pytest.fixture(scope="session")
def lambda_bundle(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path,
                  bundle_interpreter: str) -> Callable[..., Bundle]:
    """``lambda_bundle(adapter, arch=host)``: the built and unpacked bundle (skips when the adapter is absent)."""
    built: dict[tuple[str, str], Bundle] = {}

    def get(adapter: str, arch: str = HOST_ARCH) -> Bundle:
        if not adapter_module_present(adapter):
            pytest.skip(f"adapters/{adapter}/ is not in this checkout yet (written on another branch)")
        key = (adapter, arch)
        if key not in built:
            out = tmp_path_factory.mktemp(f"bundle-{adapter}-{arch}")
            result = build_bundle(BuildOptions(adapter, out, arch=arch, python=PYTHON, cache=bundle_cache,
                                               interpreter=bundle_interpreter))
            root = out / "task"
            with zipfile.ZipFile(result.zip_path) as archive:
                archive.extractall(root)
            built[key] = Bundle(adapter, arch, result, root)
        return built[key]

    return get


@pytest.fixture(scope="session")
def lambda_runtime_site(bundle_cache: Path, bundle_interpreter: str) -> Path:
    """What the Lambda Python runtime provides besides the function's code: awslambdaric and boto3 (locked in the
    ``lambda-runtime`` dependency group)."""
    target = Target.of(PYTHON, HOST_ARCH)
    requirements = locked_requirements(REPO, group="lambda-runtime")
    site = bundle_cache / "runtime" / f"{target.name}-{digest(requirements)}"
    if not site.is_dir():
        site.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".runtime-", dir=site.parent))
        try:
            pinned = work.with_name(work.name + ".txt")
            pinned.write_text(requirements, encoding="utf-8")
            install([pinned], target, work)
            pinned.unlink()
            subprocess.run([bundle_interpreter, "-m", "compileall", "-q", str(work)], check=False,
                           capture_output=True)
            try:
                os.rename(work, site)
            except OSError:
                if not site.is_dir():
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return site


@dataclass(frozen=True)
class Outcome:
    """What the function returned: ``kind`` is ``response`` or ``error`` (Lambda's error payload as ``body``)."""

    kind: str
    body: dict[str, Any]


class LambdaFunction:
    """One execution environment: the bundle's handler under awslambdaric, fed by a loopback Runtime API."""

    def __init__(self, bundle: Bundle, runtime_site: Path, interpreter: str, log_dir: Path,
                 env: dict[str, str]) -> None:
        self.bundle = bundle
        self.log = log_dir / "worker-0.log"
        home = log_dir / "home"
        home.mkdir(parents=True, exist_ok=True)
        environment = {
            "PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "en_US.UTF-8", "TZ": ":UTC",
            "PYTHONPATH": f"{bundle.root}:{runtime_site}",
            "LAMBDA_TASK_ROOT": str(bundle.root), "LAMBDA_RUNTIME_DIR": str(runtime_site),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{PYTHON}",
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
            **env,
        }
        self.target = RuntimeTarget("connector.handler.lambda_handler", workers=1, env=environment,
                                    cwd=str(bundle.root), timeout=120.0, log_dir=str(log_dir),
                                    python=[interpreter, "-S"], inherit_env=False, function_name=FUNCTION_NAME)
        self.target.start()

    def invoke(self, event: dict[str, Any]) -> Outcome:
        try:
            return Outcome("response", self.target.invoke(event))
        except LambdaFunctionError as e:
            return Outcome("error", {"errorType": e.error_type, "errorMessage": e.message,
                                     "stackTrace": list(e.stack)})

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke and return the response; an error outcome fails the test with the function's message."""
        outcome = self.invoke(event)
        assert outcome.kind == "response", f"{outcome.body}\n{self.log_text()[-3000:]}"
        return outcome.body

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    @property
    def alive(self) -> bool:
        return all(worker.process.poll() is None for worker in self.target.workers)

    def close(self) -> None:
        self.target.close()


@pytest.fixture
def lambda_function(lambda_runtime_site: Path, bundle_interpreter: str,
                    tmp_path: Path) -> Iterator[Callable[..., LambdaFunction]]:
    """``lambda_function(bundle, **env)`` starts a function; every one is stopped at the end of the test."""
    started: list[LambdaFunction] = []

    def start(bundle: Bundle, **env: str) -> LambdaFunction:
        function = LambdaFunction(bundle, lambda_runtime_site, bundle_interpreter,
                                  tmp_path / f"function-{len(started)}", env)
        started.append(function)
        return function

    yield start
    for function in started:
        function.close()
