"""Every shell command the user documentation shows runs as written, in the order written.

The ``sh`` blocks of README.md, docs/local-athena.md, docs/access-control.md, docs/writing-an-adapter.md and
sar/README.md run in bash (``set -e``) from a copy of the repository's tracked files that shares this
checkout's ``.venv`` - exactly as a user types them after cloning, with no afq on PATH unless the page puts
it there. Blocks that call AWS (``aws``, ``sam``) cannot run here and are listed; ``console`` blocks have
their ``$`` commands run and their output compared. The few steps a page asks the reader to do by hand
("save the policy above as...", "pip install your package") are done by the test, as stated below.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.docs.test_writing_an_adapter import install_as_package

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv"
PAGES = ("README.md", "docs/local-athena.md", "docs/access-control.md", "docs/writing-an-adapter.md",
         "sar/README.md")
#: Commands shown but not run here, and why.
NOT_RUN = {"make test": "runs this very test suite"}
_AWS = re.compile(r"^\s*(?:for .*; do\s+)?(?:aws|sam)\s", re.MULTILINE)
_FENCE = re.compile(r"^( *)```(sh|console)\n(.*?)^\1```", re.MULTILINE | re.DOTALL)


@dataclass
class Block:
    page: str
    kind: str  # sh or console
    text: str

    @property
    def needs_aws(self) -> bool:
        return bool(_AWS.search(self.text))


def blocks(page: str) -> list[Block]:
    text = (REPO / page).read_text()
    return [Block(page, m.group(2), textwrap.dedent(m.group(1) + m.group(3)) if m.group(1) else m.group(3))
            for m in _FENCE.finditer(text)]


def runnable(block: Block) -> str:
    """The block as a script, without the commands that are shown but not run here."""
    lines = []
    for line in block.text.splitlines():
        command = line.split("#", 1)[0].strip()
        if command in NOT_RUN:
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ the sandbox


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """The tracked files as a fresh clone has them (modification times kept, so make sees the installed
    .venv as current), sharing this checkout's .venv."""
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    stamp = VENV / ".installed"
    newest = max((REPO / f).stat().st_mtime for f in ("uv.lock", "pyproject.toml"))
    if not stamp.exists() or stamp.stat().st_mtime < newest:
        pytest.skip(".venv is not installed from the current uv.lock (run make venv)")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    root = tmp_path / "clone"
    for name in files.decode().split("\0"):
        if not name or not (REPO / name).is_file():
            continue
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    (root / ".venv").symlink_to(VENV)
    return root


def user_env(clone: Path, **extra: str) -> dict[str, str]:
    """A login-like environment: nothing of afq's or the connector's, and no .venv on PATH."""
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and Path(p).resolve() != (VENV / "bin").resolve())
    env = {"PATH": path, "HOME": os.environ.get("HOME", str(clone)), "LANG": "C.UTF-8",
           "AFQ_LOCAL_SPILL_DIR": str(clone / ".spill"), "UV_PYTHON_DOWNLOADS": "never"}
    for key in ("UV_CACHE_DIR", "XDG_CACHE_HOME", "AFQ_CACHE_DIR", "TMPDIR"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra)
    return env


def run_script(script: str, clone: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    prologue = "set -e\ntrap 'echo \"DOC COMMAND FAILED: $BASH_COMMAND\" >&2' ERR\n"
    result = subprocess.run(["bash", "-c", prologue + script], cwd=clone, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"{script}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


def run_page(page: str, clone: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = "".join(runnable(b) for b in blocks(page) if b.kind == "sh" and not b.needs_aws)
    return run_script(script, clone, env)


# ------------------------------------------------------------------------------------------ pages


def test_every_page_shows_runnable_commands_and_only_aws_ones_are_skipped() -> None:
    for page in PAGES:
        found = blocks(page)
        assert any(b.kind == "sh" and not b.needs_aws for b in found), page
        for block in found:
            if block.needs_aws:  # what cannot run without an AWS account: aws/sam calls and their make package
                for line in block.text.splitlines():
                    command = line.split("#", 1)[0].strip()
                    assert not command or command.startswith(("aws ", "sam ", "make package", "for ", "done", "--",
                                                              "'", '"', "Name=", "ServiceName")) or \
                        line.startswith((" ", "\t")), (page, line)


def test_readme(clone: Path) -> None:
    result = run_page("README.md", clone, user_env(clone))
    assert "demo files in" in result.stdout  # make demo ran the demo
    assert "amer   | " in result.stdout and "(3 rows)" in result.stdout  # the vip query
    assert "summary (value sets):" in result.stdout and "orderByClause: amount DESC_NULLS_LAST" in result.stdout
    assert pq.read_table(clone / "demo" / "orders.parquet").num_rows == 5000
    assert "0 findings" in result.stdout
    # The demo's closing hint runs as printed, from where make demo was run.
    hint = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith(
        ("export ", ".venv/bin/afq query"))]
    assert any(h.startswith(".venv/bin/afq query --lake-dir") for h in hint), result.stdout
    again = run_script("\n".join(hint) + "\n", clone, user_env(clone))
    assert "(3 rows)" in again.stdout


def test_local_athena(clone: Path) -> None:
    env = user_env(clone)
    run_script("make demo >/dev/null\n", clone, env)  # the page starts "after make demo"
    result = run_page("docs/local-athena.md", clone, env)
    assert "every pushed predicate holds on every split" in result.stderr  # --verify
    assert len((clone / "demo" / "orders.csv").read_text().splitlines()) == 5001
    assert "ReadRecordsResponse" in result.stdout and "3 row(s) inline" in result.stdout  # trace show
    assert "with fresh keys" in result.stderr and " failed" not in result.stderr  # invoke --replay
    assert '"sourceType": "sqlite"' in result.stdout  # invoke demo/ping.json
    assert "0 findings" in result.stdout
    # The error examples: each $ command prints what the page shows (up to its "...").
    (console,) = [b for b in blocks("docs/local-athena.md") if b.kind == "console"]
    lines = console.text.splitlines()
    setup = "source .venv/bin/activate\nexport shop_connection_string=sqlite://jdbc:sqlite:$PWD/demo/shop.db\n"
    for command, shown in zip(lines[::2], lines[1::2], strict=True):
        assert command.startswith("$ ")
        out = subprocess.run(["bash", "-c", setup + command[2:]], cwd=clone, env=env, capture_output=True,
                             text=True, timeout=120, check=False)
        assert out.returncode == 2
        assert out.stderr.startswith(shown.removesuffix("...")), (shown, out.stderr)


def test_access_control(clone: Path) -> None:
    (policy,) = re.findall(r"```yaml\n(.*?)```", (REPO / "docs/access-control.md").read_text(), flags=re.DOTALL)
    (clone / "demo").mkdir()
    (clone / "demo" / "policy.yaml").write_text(policy)  # "Save the policy above as demo/policy.yaml"
    result = run_page("docs/access-control.md", clone, user_env(clone))
    assert "emea" in result.stdout and "amer" not in result.stdout.split("(1 row)")[0]  # ana sees EMEA only
    assert "arn:aws:iam::999999999999:user/eve" in result.stdout  # the samples report


def test_writing_an_adapter(clone: Path) -> None:
    site = clone.parent / "site"
    site.mkdir()
    install_as_package(site)  # "With the package installed (pip install -e .)"
    result = run_page("docs/writing-an-adapter.md", clone, user_env(clone, PYTHONPATH=str(site)))
    assert "0 findings" in result.stdout
    assert result.stdout.splitlines()[-5:] == ["region | total", "-------+------", "amer   |  99.0",
                                               "emea   | 30.75", "(2 rows)"]


@pytest.mark.slow
def test_sar_readme_builds_what_the_templates_deploy(clone: Path) -> None:
    """The build commands (every bundle, one for arm64); the templates' CodeUri then points at built zips."""
    if shutil.which("python3.12") is None and not list(Path.home().glob(".pyenv/versions/3.12*")):
        pytest.skip("no python3.12 to byte-compile bundles with")
    # AFQ_DEBUG: a failing build shows the whole reason (uv's own error), not only afq's first line.
    run_page("sar/README.md", clone, {**user_env(clone), "AFQ_DEBUG": "1"})
    for template in sorted((clone / "sar").glob("*.yaml")):
        code_uri = re.search(r"CodeUri: (\S+)", template.read_text())
        assert code_uri, template
        assert (template.parent / code_uri.group(1)).is_file(), (template.name, code_uri.group(1))


def test_pages_are_tested_here() -> None:
    """A page with commands that is not in PAGES would not be checked: keep the list complete."""
    with_commands = {str(p.relative_to(REPO)) for p in [REPO / "README.md", *(REPO / "docs").glob("*.md"),
                                                        REPO / "sar" / "README.md"]
                     if any(b.kind == "sh" and "afq" in b.text for b in blocks(str(p.relative_to(REPO))))}
    assert with_commands <= set(PAGES), with_commands - set(PAGES)
    assert sys.executable  # the tests run from the .venv the pages use
