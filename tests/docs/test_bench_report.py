"""The benchmark report renders from its results file, whole or partial (no number is asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.report import render

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results.json"
SECTIONS = ("## 1. ReadRecords throughput", "## 2. Hot-path profile", "## 3. Cold start", "## 4. Memory",
            "## 5. Parallelism", "## 6. Lambda bundle sizes", "## 7. Oracle", "## 8. `afq query` exports")


@pytest.fixture(scope="module")
def results() -> dict:
    if not RESULTS.exists():
        pytest.skip("bench/results.json is written by make bench")
    return json.loads(RESULTS.read_text())


def test_the_committed_results_render_every_section(results: dict) -> None:
    text = render(results)
    assert text.startswith("# Benchmarks\n")
    for heading in SECTIONS:
        assert heading in text, heading
    assert "None" not in text and "nan" not in text.lower().split()


def test_the_committed_report_is_the_rendering_of_the_committed_results(results: dict) -> None:
    """bench/README.md is generated: editing it by hand would be lost at the next make bench."""
    assert (RESULTS.parent / "README.md").read_text() == render(results)


def test_a_run_with_some_sections_renders_those_only(results: dict) -> None:
    partial = {**results, "sections": {"memory": results["sections"]["memory"]}}
    text = render(partial)
    assert "## 4. Memory" in text
    assert "## 1. ReadRecords throughput" not in text and "## 5. Parallelism" not in text
