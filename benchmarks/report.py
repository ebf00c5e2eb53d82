"""The table of ratios against the acceptance targets, from the collected results.

``rows(results)`` turns the measurements (keyed as in ``benchmarks.__main__.PLAN``) into one
``Row`` per comparison; ``markdown(rows)`` formats them as the Markdown table that
``benchmarks/RESULTS.md`` and the book's Performance page keep. Speeds come from medians of
per-step wall times after a warm-up. The ratio is rnnbook's advantage (above 1 is better for
rnnbook) except in three kinds of row: accuracy (rnnbook minus other), fraction of peak, and
drift (last / first step time of one run: 1 is no drift).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.flops import FORMULA

_FORMATS = {"steps/s": ".1f", "s/step": ".2f", "accuracy": ".3f", "GFLOP/s": ".0f"}
_RATIO = {"x": "{:.2f}x", "diff": "{:+.3f}", "%": "{:.0%}", "drift": "{:.2f}x"}
_TARGET = {"x": ">= {:g}x", "diff": "no worse (2 s.e.)", "%": ">= {:.0%}", "drift": "<= {:g}x"}


@dataclass
class Row:
    workload: str
    comparison: str
    metric: str  # a key of _FORMATS, or network-steps/s (formatted .0f)
    rnnbook: float | None = None
    other: float | None = None
    ratio: float | None = None  # read according to `kind`
    kind: str = "x"  # x: rnnbook's advantage; diff, %, drift: see the module docstring
    target: float | None = None  # the acceptance threshold on `ratio` (None: information)
    met: bool | None = None
    error: str = ""


def _guarded(results: dict, keys: tuple, workload: str, name: str, build: Callable) -> Row:
    """``build(workload, name, *results[k] for k in keys)``, or a Row naming the failure."""
    for key in keys:
        if "error" in results[key]:
            return Row(workload, name, "", error=f"{key}: {results[key]['error']}", met=False)
    return build(workload, name, *(results[key] for key in keys))


def _compare(workload, name, metric, ours, other, ratio, kind="x", target=None) -> Row:
    met = None
    if target is not None:
        met = ratio <= target if kind == "drift" else ratio >= target
    return Row(workload, name, metric, ours, other, ratio, kind, target, met)


def _peak(workload, name, peak) -> Row:
    one, two = peak["gflops_1t"], peak["gflops_2t"]
    return Row(workload, name, "GFLOP/s", one, two, two / one)


def _speed(target: float | None) -> Callable:
    """Training steps per second, from median step times."""

    def build(workload, name, ours, other):
        r, o = ours["step"]["median_s"], other["step"]["median_s"]
        return _compare(workload, name, "steps/s", 1 / r, 1 / o, o / r, "x", target)

    return build


def _seconds(target: float | None) -> Callable:
    """Median seconds per training step."""

    def build(workload, name, ours, other):
        r, o = ours["step"]["median_s"], other["step"]["median_s"]
        return _compare(workload, name, "s/step", r, o, o / r, "x", target)

    return build


def _accuracy(workload, name, ours, other) -> Row:
    """No worse: rnnbook's accuracy at least the other's minus two standard errors."""
    p, q = ours["accuracy"], other["accuracy"]
    n, m = ours["sizes"]["eval_trials"], other["sizes"]["eval_trials"]
    se = math.sqrt(p * (1 - p) / n + q * (1 - q) / m)
    return _compare(workload, name, "accuracy", p, q, p - q, "diff", -2 * se)


def _fraction_of_peak(target: float) -> Callable:
    def build(workload, name, ours, peak):
        gflops, two = ours["flops_per_step"] / ours["step"]["median_s"] / 1e9, peak["gflops_2t"]
        return _compare(workload, name, "GFLOP/s", gflops, two, gflops / two, "%", target)

    return build


def _drift(target: float | None) -> Callable:
    """Median of the first five measured steps against the last five, in one process."""

    def build(workload, name, result):
        first, last = result["drift"]["first_median_s"], result["drift"]["last_median_s"]
        return _compare(workload, name, "s/step", first, last, last / first, "drift", target)

    return build


def _ensemble(target: float | None) -> Callable:
    def build(workload, name, ours, serial):
        a, b = ours["network_steps_per_s"], serial["network_steps_per_s"]
        return _compare(workload, name, "network-steps/s", a, b, a / b, "x", target)

    return build


# (result keys: rnnbook's first, workload, comparison, how to build the row)
COMPARISONS = [
    (("peak",), "peak", "matmul 2048^3 fp32: 1 thread vs 2", _peak),
    (("A/rnnbook", "A/textbook"), "A", "rnnbook vs textbook loop", _speed(2.0)),
    (("A/rnnbook", "A/psychrnn"), "A", "rnnbook vs PsychRNN 1.0.0", _speed(10.0)),
    (("A/rnnbook", "A/rnnbook_1thread"), "A", "rnnbook: 2 threads vs 1", _speed(None)),
    (("A/rnnbook", "A/textbook"), "A", "accuracy vs textbook (rnnbook's task)", _accuracy),
    (("A/rnnbook_psychrnn_task", "A/psychrnn"), "A", "accuracy vs PsychRNN (its task)", _accuracy),
    (("B/rnnbook", "B/textbook"), "B", "rnnbook vs textbook loop", _seconds(1.2)),
    (("B/rnnbook", "peak"), "B", "rnnbook vs 2-thread matmul peak", _fraction_of_peak(0.45)),
    (("B/rnnbook", "B/rnnbook_1thread"), "B", "rnnbook: 2 threads vs 1", _seconds(None)),
    (("B/rnnbook",), "B", "drift of rnnbook: steps 1-5 vs 16-20", _drift(1.15)),
    (("B/textbook",), "B", "drift of textbook loop: steps 1-5 vs 16-20", _drift(None)),
    (("C/processes:128", "C/serial:128"), "C", "N=128: 2 processes vs serial", _ensemble(1.8)),
    (("C/processes:32", "C/serial:32"), "C", "N=32: 2 processes vs serial", _ensemble(None)),
    (("C/stacked:32", "C/serial:32"), "C", "N=32: stacked vs serial", _ensemble(3.0)),
]


def rows(results: dict) -> list[Row]:
    """One Row per comparison of ``COMPARISONS`` whose measurements all ran."""
    return [
        _guarded(results, *comparison)
        for comparison in COMPARISONS
        if all(key in results for key in comparison[0])
    ]


def _cells(row: Row) -> list[str]:
    if row.error:
        return [row.workload, row.comparison, "", "", "", "", "", "**error**: " + row.error[:80]]
    value = _FORMATS.get(row.metric, ".0f")
    target = "" if row.target is None else _TARGET[row.kind].format(row.target)
    met = {True: "yes", False: "**no**", None: ""}[row.met]
    return [
        row.workload,
        row.comparison,
        row.metric,
        f"{row.rnnbook:{value}}",
        f"{row.other:{value}}",
        _RATIO[row.kind].format(row.ratio),
        target,
        met,
    ]


def markdown(table: list[Row]) -> str:
    """The rows as a Markdown table."""
    header = ["", "comparison", "metric", "rnnbook", "other", "ratio", "target", "met"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cells(row)).replace("\n", " ") + " |" for row in table]
    return "\n".join(lines)


def flop_notes(results: dict) -> str:
    """The matmul FLOPs per training step of A and B, and the formula."""
    lines = [f"FLOPs per training step (matmuls only): {FORMULA}."]
    for key in ("A/rnnbook", "B/rnnbook"):
        if "flops_per_step" in results.get(key, {}):
            gflop = results[key]["flops_per_step"] / 1e9
            lines.append(f"{key[0]}: {gflop:.3g} GFLOP per training step.")
    return "\n".join(lines)
