"""Venvs for tools that pin versions the project's venv cannot share (fakesnow, aws-sam-cli).

Each tool has a hash-pinned requirements file committed next to its user (``requirements-<tool>.txt``, compiled
from ``requirements-<tool>.in`` by ``make lock``). Its venv is created from that file with ``uv pip sync``
(exact, hash-checked) and synced again whenever the file changes; otherwise it is reused as it is.

    python -m tests.servers.tool_venv tests/servers/requirements-fakesnow.txt .venv-fakesnow [PYTHON]

A tool that needs another Python than this one (the peer SDK of ``bench/`` needs 3.12) names it in the first
line of its ``.in`` file (``# requires python 3.12``); ``make lock`` compiles for that version and ``ensure`` builds
the venv with a matching interpreter.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

from connector.packaging.lock import uv_executable
from connector.packaging.targets import find_interpreter

STAMP = ".afq-lock-sha256"


def required_python(lock: Path) -> str | None:
    """The Python version the tool's ``.in`` file asks for (``# requires python X.Y`` on its first line)."""
    source = lock.with_suffix(".in")
    first = source.read_text(encoding="utf-8").splitlines()[:1] if source.is_file() else []
    found = re.fullmatch(r"#\s*requires python (\d+\.\d+)\s*", first[0]) if first else None
    return found.group(1) if found else None


def ensure(lock: Path, venv: Path, base: Path | None = None) -> Path:
    """The venv's interpreter, after syncing it with ``lock`` if it is missing or was made from another lock.

    ``base``: the interpreter to build it with (default: the one the ``.in`` file requires, else this one's)."""
    python = venv / "bin" / "python"
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    stamp = venv / STAMP
    if python.exists() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    uv = uv_executable()
    environment = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    environment.pop("VIRTUAL_ENV", None)
    if base is None:
        version = required_python(lock)
        base = Path(find_interpreter(version)) if version else Path(sys.base_prefix) / "bin" / "python3"
    # --no-config: the project's [tool.uv] settings belong to .venv, not to the tool's own lock.
    for command in ([uv, "venv", "--no-config", "--quiet", "--allow-existing", "--python", str(base), str(venv)],
                    [uv, "pip", "sync", "--no-config", "--quiet", "--require-hashes", "--python", str(python),
                     str(lock)]):
        result = subprocess.run(command, capture_output=True, text=True, check=False, env=environment)
        if result.returncode != 0:
            raise RuntimeError(f"cannot create {venv} from {lock}:\n{result.stderr[-3000:]}")
    stamp.write_text(wanted)
    return python


if __name__ == "__main__":
    print(ensure(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None))
