"""Run crafted requests in a fresh process and report what they cost: peak RSS, wall time, response sizes.

    python -m tests.support.resource_probe SPEC.json

SPEC: ``{"events": ["event.json", ...], "responses": "dir", "plan": [["label", "event.json", n], ...],
"warm_up": "event.json"}``. The connector is configured from the process environment (the caller passes exactly
the connector's variables). Each event in ``events`` is answered by the service
exactly as the Lambda handler would, and its response written to ``responses/<i>.json``; ``plan`` events are only
parsed and planned (``describe_read``: the SQL, without reading), ``n`` times each, best time kept.

The peak RSS is the kernel's high-water mark (``VmHWM``), reset after the warm-up (imports, one GetTable), so it
is what the requests added to a process that had served one metadata call. One JSON line on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # "5": reset the peak RSS to the current RSS
        return True
    except OSError:
        return False


def main(spec_path: str) -> dict[str, Any]:
    spec = json.loads(Path(spec_path).read_text())
    from connector.config import Settings
    from connector.errors import ConnectorError
    from connector.protocol.messages import parse_request
    from connector.service import FederationService

    service = FederationService(Settings.from_env())
    warm = spec.get("warm_up")
    if warm:
        service.handle(json.loads(Path(warm).read_text()))
    report: dict[str, Any] = {"peak_reset": _reset_peak(), "baseline_rss": _status("VmRSS"), "responses": [],
                              "plans": {}}
    started = time.perf_counter()
    out = Path(spec.get("responses", "."))
    for i, path in enumerate(spec.get("events", [])):
        event = json.loads(Path(path).read_text())
        t0 = time.perf_counter()
        try:
            wire = service.handle(event)
        except ConnectorError as e:
            report["responses"].append({"error": type(e).__name__, "message": str(e),
                                        "seconds": time.perf_counter() - t0})
            continue
        text = json.dumps(wire)  # as the Lambda runtime sends it
        (out / f"{i}.json").write_text(text)
        report["responses"].append({"type": wire["@type"], "json_bytes": len(text.encode()),
                                    "blocks": len(wire.get("remoteBlocks", [])),
                                    "seconds": time.perf_counter() - t0})
    for label, path, repeat in spec.get("plan", []):
        event = json.loads(Path(path).read_text())
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            service.describe_read(parse_request(event))
            best = min(best, time.perf_counter() - t0)
        report["plans"][label] = best
    report["seconds"] = time.perf_counter() - started
    report["peak_rss"] = _status("VmHWM")
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
