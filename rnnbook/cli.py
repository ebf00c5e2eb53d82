"""``rnnbook run | book | list``: a thin command line over ``rnnbook.studies``."""

from __future__ import annotations

import argparse
import re
import signal
import sys

import yaml

from rnnbook import studies
from rnnbook.records import read_records

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def parse_value(text: str) -> object:
    """A ``-p NAME VALUE`` value as YAML: ``3`` -> 3, ``0.1`` and ``1e-3`` -> float,
    ``[0.1, 0.2]`` -> list, ``true`` -> True; anything else stays a string."""
    value = yaml.safe_load(text)
    if isinstance(value, str) and _NUMBER.fullmatch(text.strip()):
        return float(text)  # YAML 1.1 reads "1e-3" as a string
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
        help="override one parameter; VALUE is read as YAML (3, 0.1, [0.1, 0.2], true)",
    )
    run.add_argument("-o", "--output", help="executed notebook (default _build/runs/...)")
    commands.add_parser("book", help="execute the changed studies and build the HTML book")
    commands.add_parser("list", help="list the studies and their presets")
    return parser


def _run(args: argparse.Namespace) -> int:
    overrides = {name: parse_value(value) for name, value in args.parameter}
    studies.resolve_parameters(args.study, args.preset, overrides)  # fail before any output
    output = studies.run_study(
        args.study, preset=args.preset, parameters=overrides, output=args.output
    )
    print(output)
    for name, value in read_records(output).items():
        print(f"  {name} = {value}")
    return 0


def _book(args: argparse.Namespace) -> int:
    try:
        index = studies.build_book(studies.find_root())
    except studies.BookBuildError as error:
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
    command = {"run": _run, "book": _book, "list": _list}[args.command]
    try:
        return command(args)
    except (ValueError, FileNotFoundError, studies.StudyError) as error:
        message = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
        print(f"rnnbook: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
