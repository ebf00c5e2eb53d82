"""``python -m benchmarks [--quick] [--only peak,A,B,C]``: every comparison, side by side.

Runs each measurement of ``PLAN`` in a fresh process, one after another, prints a table of
ratios against the acceptance targets and writes everything measured, with the machine, to
``benchmarks/results/<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

from benchmarks import report
from benchmarks.isolated import ROOT, run_module
from benchmarks.machine import describe
from benchmarks.workload_c import CASES

# (result key, module, measurement): the order they run in
PLAN = [
    ("peak", "peak", "matmul"),
    ("A/rnnbook", "workload_a", "rnnbook"),
    ("A/rnnbook_1thread", "workload_a", "rnnbook_1thread"),
    ("A/textbook", "workload_a", "textbook"),
    ("A/psychrnn", "psychrnn_a", "psychrnn"),
    ("A/rnnbook_psychrnn_task", "workload_a", "rnnbook_psychrnn_task"),
    ("B/rnnbook", "workload_b", "rnnbook"),
    ("B/textbook", "workload_b", "textbook"),
    ("B/rnnbook_1thread", "workload_b", "rnnbook_1thread"),
    *[(f"C/{case}", "workload_c", case) for case in CASES],
]
WORKLOADS = ("peak", "A", "B", "C")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for development")
    parser.add_argument(
        "--only", default=",".join(WORKLOADS), help="comma-separated workloads (default: all)"
    )
    args = parser.parse_args(argv)
    args.only = [w.strip() for w in args.only.split(",")]
    unknown = set(args.only) - set(WORKLOADS)
    if unknown:
        parser.error(f"--only {','.join(sorted(unknown))}: choose from {','.join(WORKLOADS)}")
    return args


def run_plan(quick: bool, only: list[str]) -> dict:
    """Run the selected measurements; a failure is recorded as ``{"error": ...}``."""
    plan = [step for step in PLAN if step[0].split("/")[0] in only]
    results = {}
    for i, (key, module, impl) in enumerate(plan, 1):
        print(f"[{i}/{len(plan)}] {key} ...", end=" ", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            results[key] = run_module(module, impl, *(["--quick"] if quick else []))
        except Exception as error:  # recorded, shown in the table; the others still run
            results[key] = {"error": f"{type(error).__name__}: {error}"}
        status = "failed" if "error" in results[key] else "ok"
        print(f"{status} ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    return results


def _write(record: dict) -> str:
    """Write ``record`` to benchmarks/results/<timestamp>.json; its path from the root."""
    out = ROOT / "benchmarks" / "results" / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1))
    return str(out.relative_to(ROOT))


def _print(record: dict, table: list[report.Row], path: str) -> None:
    machine = record["machine"]
    quick = "  (--quick: sizes shrunk)" if record["quick"] else ""
    versions = machine["versions"]
    print(f"\n{record['started']}  {machine['cpu']}, {machine['cores']} cores, ", end="")
    print(f"torch {versions['torch']}, Python {machine['python']}{quick}\n")
    print(report.markdown(table))
    print(f"\n{report.flop_notes(record['results'])}\nraw results: {path}")
    for key, result in record["results"].items():
        if "error" in result:
            print(f"\n{key} failed:\n{result['error']}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parse(argv)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    start = time.perf_counter()
    results = run_plan(args.quick, args.only)
    table = report.rows(results)
    record = {
        "started": started,
        "duration_s": round(time.perf_counter() - start, 1),
        "command": " ".join(["python -m benchmarks", *argv]),
        "quick": args.quick,
        "machine": describe(),
        "results": results,
        "table": [asdict(row) for row in table],
    }
    _print(record, table, _write(record))
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
