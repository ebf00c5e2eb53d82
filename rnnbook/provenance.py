"""What an execution of a study cost, and the numbers it recorded, shown at the end of its page.

``rnnbook run`` and the smoke tests append two cells to every study they execute (see
``rnnbook.studies.footer_cells``): ``show_records()`` prints the page's records as a collapsed
table (rounded to four significant digits; the records themselves keep full precision), and
``show_rerun_cost(name, preset)`` states, from this very execution, how long it took on which
machine, how many networks it trained and how many it loaded from the run cache, and the
commands that re-run it.

The run counts are kept in this process by ``note_run``, which ``fit``, ``fit_many`` and
``sweep`` call for every run they return (trained here or in their worker processes, or
loaded from the cache).
"""

from __future__ import annotations

import html
import os
import platform
import time
from dataclasses import dataclass

_IMPORTED = time.time()
_RUNS: dict[str, str] = {}  # run key -> "trained" or "cached" ("trained" wins)

RECORDS_CLASS = "rnnbook-records"  # the browser test looks for this table on every study page
COST_CLASS = "rnnbook-rerun-cost"


def note_run(key: str, trained: bool) -> None:
    """Count the run ``key`` as trained (by this execution) or loaded from the run cache."""
    if trained or key not in _RUNS:
        _RUNS[key] = "trained" if trained else "cached"


@dataclass(frozen=True)
class ExecutionSummary:
    """This execution so far: ``seconds`` since the kernel started, the machine (``cpu``,
    ``cores``, torch's ``threads``), the versions, and the distinct networks ``trained`` and
    ``cached`` (loaded from the run cache)."""

    seconds: float
    cpu: str
    cores: int
    threads: int
    torch_version: str
    python_version: str
    trained: int
    cached: int


def execution_summary() -> ExecutionSummary:
    import torch

    statuses = list(_RUNS.values())
    return ExecutionSummary(
        seconds=_process_age(),
        cpu=_cpu_model(),
        cores=os.cpu_count() or 1,
        threads=torch.get_num_threads(),
        torch_version=torch.__version__,
        python_version=platform.python_version(),
        trained=statuses.count("trained"),
        cached=statuses.count("cached"),
    )


def _process_age() -> float:
    """Seconds since this process started (Linux), else since rnnbook was imported."""
    try:
        with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            return float(uptime.read().split()[0]) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.time() - _IMPORTED


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s`` or ``1 h 02 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def format_value(value: object) -> str:
    """A record as shown on the page: numbers to four significant digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:d}"
    return f"{value:.4g}"


def records_html(records: dict[str, object]) -> str:
    """The collapsed table of ``records`` (name -> value)."""
    rows = "".join(
        f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(format_value(value))}"
        "</td></tr>"
        for name, value in records.items()
    )
    return (
        f'<details class="{RECORDS_CLASS}"><summary>Recorded numbers ({len(records)}): the '
        "values this page's text cites, rounded here to four significant digits</summary>"
        f"<table><thead><tr><th>record</th><th>value</th></tr></thead><tbody>{rows}</tbody>"
        "</table></details>"
    )


def rerun_cost_markdown(name: str, preset: str | None, summary: ExecutionSummary) -> str:
    preset = preset or "book"
    nets = f"{summary.trained} network{'s' * (summary.trained != 1)}"
    return (
        f"**What a re-run costs.** This page ran on its `{preset}` preset in "
        f"{format_duration(summary.seconds)} on a {summary.cpu} with {summary.cores} CPU cores "
        f"(torch {summary.torch_version}, {summary.threads} threads, Python "
        f"{summary.python_version}). It trained {nets} and loaded {summary.cached} from the "
        "run cache. To run it yourself: `rnnbook run "
        f"{name}` (the book's settings), `rnnbook run {name} --preset smoke` (a quick check, "
        f"under a minute) or `rnnbook run {name} --preset paper` (the source study's sizes; "
        "hours on a CPU). A second run with the same settings loads its networks from the "
        "cache."
    )


def show_records() -> None:
    """Display this process's records as a collapsed table (a study's footer cell)."""
    from IPython.display import HTML, display

    from rnnbook.records import recorded

    display(HTML(records_html(recorded())))


def show_rerun_cost(name: str, preset: str | None = None) -> None:
    """Display what this execution of study ``name`` cost (a study's footer cell)."""
    from IPython.display import Markdown, display

    display(Markdown(rerun_cost_markdown(name, preset, execution_summary())))


FOOTER_TAG = "rnnbook-footer"


def with_footer(notebook, name: str, preset: str | None):
    """``notebook`` (a NotebookNode, changed in place and returned) with the two footer cells
    appended: the records table and what the execution cost, their code hidden in the book."""
    import nbformat

    sources = [
        "import rnnbook.provenance\n\nrnnbook.provenance.show_records()",
        f"rnnbook.provenance.show_rerun_cost({name!r}, {preset!r})",
    ]
    metadata = {"tags": ["remove-input", FOOTER_TAG]}
    notebook.cells.extend(nbformat.v4.new_code_cell(s, metadata=metadata) for s in sources)
    return notebook
