"""The report's plot: rows/s of every read path, per source and table shape, from ``bench/results.json``.

    python -m bench.plot RESULTS.json OUT.png

Runs in the plotting venv (``bench/requirements-plot.txt``: matplotlib), not in the project's: only the standard
library and matplotlib are imported. The PNG carries no timestamp or version, so the same figures draw the same
file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SOURCES = (("sqlite", "SQLite, narrow"), ("sqlite_wide", "SQLite, wide"), ("postgres", "PostgreSQL (JDBC), narrow"),
           ("postgres_wide", "PostgreSQL (JDBC), wide"), ("snowflake", "Snowflake (fakesnow), narrow"),
           ("snowflake_wide", "Snowflake (fakesnow), wide"))
COLORS = {"raw": "#7f7f7f", "raw-inline": "#bcbd22", "raw-rows": "#c7c7c7", "adapter": "#1f77b4",
          "adapter-variant": "#aec7e8",
          "readrecords": "#d62728", "readrecords-parallel": "#ff9896", "framework": "#2ca02c"}
LEGEND = {"raw": "raw driver (reference: darker edge)", "raw-inline": "raw driver + an inline answer's encoding",
          "raw-rows": "raw driver, no Arrow",
          "adapter": "adapter -> Arrow", "adapter-variant": "adapter, other setting",
          "readrecords": "ReadRecords (Athena's calls)",
          "readrecords-parallel": "ReadRecords, splits in parallel Lambdas (metadata + slowest split)",
          "framework": "framework only (batches in memory)"}


def _short(label: str) -> str:
    return label if len(label) <= 52 else label[:49] + "..."


def draw(results: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = ((results.get("sections") or {}).get("throughput") or {}).get("data") or {}
    panels = [(key, title, data[key]) for key, title in SOURCES if data.get(key)]
    if not panels:
        raise SystemExit("no throughput figures to plot")
    heights = [max(1, sum(1 for r in source["results"] if r["rows_per_s"])) for _, _, source in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 0.32 * sum(heights) + 1.1 * len(panels)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    shown: set[str] = set()
    every = [r["rows_per_s"] for _, _, source in panels for r in source["results"] if r["rows_per_s"]]
    for ax, (_, title, source) in zip(axes[:, 0], panels, strict=True):
        rows = [r for r in source["results"] if r["rows_per_s"]]
        labels = [_short(r["label"]) for r in rows]
        values = [r["rows_per_s"] for r in rows]
        colors = [COLORS.get(r["kind"], "#9467bd") for r in rows]
        edges = ["black" if r["label"] == source["reference"] else "none" for r in rows]
        bars = ax.barh(range(len(rows)), values, color=colors, edgecolor=edges, linewidth=1.5)
        for bar, r in zip(bars, rows, strict=True):
            ratio = r.get("vs_reference")
            text = f" {r['rows_per_s'] / 1e6:.2f} M/s" + (f"  ({ratio:.2f}x)" if ratio is not None else "")
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=7)
        ax.set_yticks(range(len(rows)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlim(min(every) / 2, max(every) * 8)  # one scale for every panel: shapes compare by eye
        ax.set_title(f"{title}: {source['rows']:,} rows ({source['arrow_bytes'] / 1e6:,.0f} MB of Arrow)",
                     fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=7)
        shown.update(r["kind"] for r in rows)
    axes[-1, 0].set_xlabel("rows/s (log scale); (x) = against the reference", fontsize=8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLORS[k]) for k in COLORS if k in shown]
    fig.legend(handles, [LEGEND[k] for k in COLORS if k in shown], loc="upper center", ncol=3, fontsize=7,
               frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, metadata={"Software": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.plot RESULTS.json OUT.png", file=sys.stderr)
        return 2
    draw(json.loads(Path(args[0]).read_text()), Path(args[1]))
    print(f"wrote {args[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
