"""A sweep's table summarised per cell, and each cell compared with a reference cell.

A *cell* is the rows that share the values of some columns (a variant and an optimiser, say):
the networks of one condition over seeds. :func:`summarise_cells` gives each cell's mean and SD
of a metric over its finished runs (and, for a learning-speed metric that may be infinite,
over the runs that reached the criterion); :func:`compare_to_reference` reads each cell's
difference from a reference cell against the seed-to-seed spread, the book's rule: a difference
is an effect only when it exceeds twice the larger of the two cells' SDs, and no effect is read
from a cell with fewer than two finished runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FAILED = "failed"


def summarise_cells(table: pd.DataFrame, by, value: str, *, steps: str | None = None):
    """One row per cell of ``table`` (rows sharing the ``by`` columns, in order of appearance).

    Columns: ``mean``, ``sd`` (ddof 1; NaN with one run) and ``n`` of ``value`` over the
    finished runs (``status`` other than "failed"); ``failed``, the number of failed runs; with
    ``steps`` (a column that is infinite where a criterion was never reached), ``steps`` and
    ``steps_sd`` over the runs that reached it (inf if none did) and ``reached`` ("k/n").
    """
    by = [by] if isinstance(by, str) else list(by)
    for column in [*by, value, "status", *([steps] if steps else [])]:
        if column not in table.columns:
            raise ValueError(f"summarise_cells: no column {column!r}: the table has {list(table)}")
    rows = {}
    for key, cell in table.groupby(by, sort=False):
        done = cell[cell["status"] != FAILED]
        row = {
            "mean": done[value].mean(),
            "sd": done[value].std(),
            "n": len(done),
            "failed": int((cell["status"] == FAILED).sum()),
        }
        if steps:
            finite = done[steps][np.isfinite(done[steps].astype(float))]
            row["steps"] = finite.mean() if len(finite) else np.inf
            row["steps_sd"] = finite.std() if len(finite) > 1 else np.nan
            row["reached"] = f"{len(finite)}/{len(cell)}"
        rows[key if len(by) > 1 else key[0]] = row
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.names = by
    return summary


def compare_to_reference(summary: pd.DataFrame, reference, *, level: str):
    """Each cell of ``summary`` (:func:`summarise_cells`) against the cell that has
    ``reference`` at index ``level`` and the same values at the other levels.

    Columns: ``difference`` (cell mean minus reference mean), ``spread`` (twice the larger of
    the two SDs; NaN when either has fewer than two runs) and ``reading``: "effect" when
    |difference| > spread, "within the spread" otherwise, "too few runs" without a spread.
    The reference cells themselves are left out.
    """
    if level not in summary.index.names:
        raise ValueError(f"compare_to_reference: no index level {level!r}: {summary.index.names}")
    if reference not in summary.index.get_level_values(level):
        raise ValueError(f"compare_to_reference: no cell with {level} = {reference!r}")
    rows = {}
    for key, cell in summary.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        position = summary.index.names.index(level)
        if key[position] == reference:
            continue
        ref_key = (*key[:position], reference, *key[position + 1 :])
        ref = summary.loc[ref_key if len(ref_key) > 1 else ref_key[0]]
        difference = cell["mean"] - ref["mean"]
        spread = 2 * max(cell["sd"], ref["sd"])  # NaN if either is
        reading = (
            "too few runs"
            if not np.isfinite(spread)
            else "effect"
            if abs(difference) > spread
            else "within the spread"
        )
        rows[key if len(key) > 1 else key[0]] = {
            "difference": difference,
            "spread": spread,
            "reading": reading,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.names = summary.index.names
    return out
