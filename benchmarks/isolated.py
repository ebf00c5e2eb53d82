"""Run one measurement in a fresh Python process and read back its JSON result.

Parent side: ``run_module("workload_a", "rnnbook", "--quick") -> dict``. Child side: a
workload module ends with ``child_main(MEASUREMENTS)``, which parses ``IMPL [--quick]``,
runs ``MEASUREMENTS[IMPL](quick)`` and prints the result as the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_module(module: str, *args: str, timeout: float = 1800) -> dict:
    """``python -m benchmarks.<module> *args`` in a fresh process; its result dict.

    Adds ``process_s`` (the child's whole run, imports included). Raises RuntimeError with the
    tail of the child's stderr if it fails.
    """
    cmd = [sys.executable, "-m", f"benchmarks.{module}", *args]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout, check=False
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(cmd[1:])} exited with {proc.returncode}:\n{tail}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = round(time.perf_counter() - start, 2)
    return result


def child_main(measurements: dict[str, Callable[[bool], dict]]) -> None:
    """Entry point of a workload module run as ``python -m benchmarks.<module> IMPL``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("impl", choices=sorted(measurements))
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for development")
    args = parser.parse_args()
    result = measurements[args.impl](args.quick)
    print(json.dumps(result))
