"""Headline numbers of a study: cited by the book, checked by the tests, read by sweeps.

A notebook calls ``record("accuracy", acc)`` once per number. The value is glued with myst-nb
(``display=False``: nothing is shown where it is recorded), so a book page cites it as
``{glue:text}`accuracy:.3f``` at the precision the prose needs; it is kept in this process
(``recorded()``), so the smoke tests can check it with ``check_records`` and the page's footer
can list every record in a collapsed table (``rnnbook.provenance.show_records``); and
``read_records`` reads it back from an executed notebook file, which is how sweeps and the
book's results overview collect results. Record each name once per notebook: the book build
treats a duplicated glue key as an error.
"""

from __future__ import annotations

import ast
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path

_RECORDS: dict[str, object] = {}


def record(name: str, value: object) -> None:
    """Store ``value`` under ``name``: glued for the book (myst-nb, not displayed) and kept in
    this process for ``check_records`` and the page's table of records.

    Numbers (Python, NumPy or one-element torch tensors) are stored as plain ``int`` or
    ``float``, so that their text form is a number the book can format; strings are stored
    as they are.
    """
    from myst_nb import glue  # imported here: glue pulls in IPython, which only notebooks need

    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"record name must be an identifier-like string, got {name!r}")
    value = _plain(value)
    _RECORDS[name] = value
    glue(name, value, display=False)


def recorded() -> dict[str, object]:
    """The records made so far in this process, name -> value (a copy)."""
    return dict(_RECORDS)


def check_records(
    expect: Mapping[str, Sequence[float]], records: Mapping[str, object] | None = None
) -> None:
    """Check that each expected record exists, is finite and lies in its ``[low, high]``.

    ``expect`` maps a record name to ``(low, high)``; ``records`` defaults to ``recorded()``.
    Raises AssertionError listing every problem (missing, not a number, NaN/inf, out of range).
    """
    records = recorded() if records is None else records
    problems = []
    for name, bounds in expect.items():
        low, high = _bounds(name, bounds)
        if name not in records:
            problems.append(f"record {name!r} is missing (recorded: {sorted(records) or 'none'})")
            continue
        value = records[name]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            problems.append(f"record {name!r} = {value!r} is not a number")
        elif not math.isfinite(value):
            problems.append(f"record {name!r} = {value} is not finite")
        elif not low <= value <= high:
            problems.append(f"record {name!r} = {value:.6g} is outside [{low}, {high}]")
    if problems:
        raise AssertionError("; ".join(problems))


def read_records(path: str | Path) -> dict[str, float | str]:
    """Read the records glued in an executed notebook: name -> float (numbers) or str."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    found: dict[str, float | str] = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook")
            if not scrapbook:
                continue
            prefix = scrapbook.get("mime_prefix", "")
            text = output.get("data", {}).get(prefix + "text/plain")
            if text is not None:
                found[scrapbook["name"]] = _parse_text(_join(text))
    return found


def _plain(value: object) -> object:
    """Convert NumPy/torch scalars to Python numbers; leave other values alone."""
    if hasattr(value, "item"):  # NumPy scalars and arrays, torch tensors
        try:
            value = value.item()
        except (TypeError, ValueError, RuntimeError):  # more than one element: keep as is
            pass
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


def _bounds(name: str, bounds: Sequence[float]) -> tuple[float, float]:
    if len(bounds) != 2 or not bounds[0] <= bounds[1]:
        raise ValueError(f"expected bounds for {name!r} must be [low, high], got {bounds!r}")
    return float(bounds[0]), float(bounds[1])


def _join(text: str | list[str]) -> str:
    return "".join(text) if isinstance(text, list) else text


def _parse_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else text
