"""``rnnbook run | sweep | book | list``: a thin command line over ``rnnbook.studies`` and
``rnnbook.study_sweeps``."""

from __future__ import annotations

import argparse
import re
import signal
import sys
from pathlib import Path

import yaml

from rnnbook import book, studies, study_sweeps
from rnnbook.records import read_records

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_NON_FINITE = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")  # YAML's own spellings
_BOOLS = ("true", "false")


def parse_value(text: str, kind: type | None = None) -> object:
    """A ``-p NAME VALUE`` value as YAML: ``3`` -> 3, ``0.1`` and ``1e-3`` -> float,
    ``[0.1, 0.2]`` -> list, ``true`` -> True, ``.inf`` -> inf; anything else stays a string.

    ``kind`` is the type of the parameter's notebook default. A ``str`` parameter takes the
    text as it is (``no``, ``1``; a quoted YAML string is unquoted). Unlike YAML 1.1, a bare
    value is a bool only if it is true or false (``no``, ``yes``, ``on``, ``off`` stay strings)
    and a number only if written in decimal (``0x10``, ``1_000``, ``1:30`` stay strings); text
    that is no YAML at all (``[1, 2``) stays a string. The parameter's rule then judges it
    (``studies.check_parameters``)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    plain = text.strip()
    if kind is str:
        return value if isinstance(value, str) else text
    if isinstance(value, bool):
        return value if plain.lower() in _BOOLS else text
    if isinstance(value, (int, float)):
        return value if _NUMBER.fullmatch(plain) or _NON_FINITE.fullmatch(plain) else text
    if isinstance(value, str) and _NUMBER.fullmatch(plain):
        return float(plain)  # YAML 1.1 reads "1e-3" as a string
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnbook", description="Run rnnbook studies and build the book."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute one study with papermill")
    run.add_argument("study", help="a notebook name in notebooks/, e.g. perceptual_decision")
    run.add_argument("--preset", help="book (the notebook defaults), smoke or paper")
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="override one parameter; VALUE is read as YAML (3, 0.1, [0.1, 0.2], true) and "
        "checked against the notebook default's type and notebooks/presets.yaml's allowed rule",
    )
    run.add_argument("-o", "--output", help="executed notebook (default _build/runs/...)")
    _sweep_parser(commands)
    commands.add_parser("book", help="execute the changed studies and build the HTML book")
    commands.add_parser("list", help="list the studies and their presets")
    return parser


def _run(args: argparse.Namespace) -> int:
    defaults = studies.notebook_parameters(args.study)  # ValueError for an unknown study
    overrides = {
        name: parse_value(value, type(defaults[name]) if name in defaults else None)
        for name, value in args.parameter
    }
    # names, types and ranges: ValueError (exit status 2) before any output or kernel
    studies.resolve_parameters(args.study, args.preset, overrides)
    output = studies.run_study(
        args.study, preset=args.preset, parameters=overrides, output=args.output
    )
    print(output)
    for name, value in read_records(output).items():
        print(f"  {name} = {value}")
    return 0


def _sweep_parser(commands) -> None:
    sweep = commands.add_parser("sweep", help="execute a study for every combination of a grid")
    sweep.add_argument("study", help="a notebook name in notebooks/")
    sweep.add_argument("--preset", help="book (the notebook defaults), smoke or paper")
    sweep.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="a parameter and its values, each read as YAML like -p (repeat for more)",
    )
    sweep.add_argument("--seeds", help="seeds A:B (A to B-1) or a list 0,4,7")
    sweep.add_argument("--executor", default="local", choices=study_sweeps.STUDY_EXECUTORS)
    sweep.add_argument("--address", help="a Dask scheduler, tcp://host:8786 (--executor dask)")
    sweep.add_argument("--workers", type=int, default=1, help="notebooks at a time (local)")
    sweep.add_argument("--out", help="output folder (default _build/sweeps/STUDY)")


def parse_grid(items: list[str], kinds: dict[str, type]) -> dict[str, list]:
    """``["lr=0.1,0.2", "activation=tanh"]`` -> ``{"lr": [0.1, 0.2], ...}``; each value read
    like ``-p`` (``parse_value``); a list value is written in brackets: ``ks=[1,2],[3]``."""
    grid = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name or not text:
            raise ValueError(f"--grid {item}: want NAME=V1,V2 (values separated by commas)")
        grid[name.strip()] = [
            parse_value(part, kinds.get(name.strip())) for part in _split_top_level(text)
        ]
    return grid


def _split_top_level(text: str) -> list[str]:
    """Split at the commas outside brackets: ``1,[2,3]`` -> ``["1", "[2,3]"]``."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def parse_seeds(text: str | None) -> list[int] | None:
    """``"0:3"`` -> [0, 1, 2]; ``"0,4,7"`` -> [0, 4, 7]; None -> None."""
    if text is None:
        return None
    try:
        if ":" in text:
            start, stop = (int(part) for part in text.split(":"))
            seeds = list(range(start, stop))
        else:
            seeds = [int(part) for part in text.split(",")]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0:
        raise ValueError(
            f"--seeds {text}: want A:B (seeds A to B-1, 0 <= A < B) or a list like 0,4,7"
        )
    return seeds


def _sweep(args: argparse.Namespace) -> int:
    kinds = {name: type(value) for name, value in studies.notebook_parameters(args.study).items()}
    table = study_sweeps.sweep_study(
        args.study,
        preset=args.preset,
        grid=parse_grid(args.grid, kinds),
        seeds=parse_seeds(args.seeds),
        executor=args.executor,
        workers=args.workers,
        address=args.address,
        out=args.out,
    )
    out = Path(table.notebook.iloc[0]).parent if len(table) else Path(args.out or ".")
    counts = ", ".join(f"{n} {status}" for status, n in table.status.value_counts().items())
    print(f"{len(table)} runs ({counts}); table: {out / 'results.csv'}")
    return 0 if (table.status != "failed").all() else 1


def _book(args: argparse.Namespace) -> int:
    try:
        index = book.build_book(studies.find_root())
    except book.BookBuildError as error:
        print(f"rnnbook: error: {error}", file=sys.stderr)
        return error.returncode
    print(f"the book is at {index}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for name in studies.list_studies():
        print(f"{name}  (presets: {', '.join(studies.preset_names(name))})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rnnbook`` command; returns the exit status (2 for a usage error or
    a failed study, with one line on stderr)."""
    args = _parser().parse_args(argv)
    # a terminated run unwinds like Ctrl-C: temporary files are removed, the kernel shut down
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    command = {"run": _run, "sweep": _sweep, "book": _book, "list": _list}[args.command]
    try:
        return command(args)
    except (ValueError, FileNotFoundError, studies.StudyError) as error:
        message = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
        print(f"rnnbook: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
