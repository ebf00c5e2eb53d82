"""Study-level sweeps: a study notebook executed with papermill for every combination of a grid
of its parameters and seeds, on this machine or on Dask, resumable; a table of their records.

    table = sweep_study("perceptual_decision", preset="smoke", grid={"lr": [1e-3, 1e-2]},
                        seeds=range(3), out="_build/sweeps/perceptual_decision")

The table has one row per combination, in grid order (seeds innermost): its parameter values,
``status`` (``executed`` / ``done``: found finished / ``failed``), ``error``, the study's records,
``wall_s`` and the ``notebook`` path. Each combination writes its executed notebook and then its
result (``<id>.json``: parameters, records) atomically under ``out``; a combination with a
result is not run again, and a finished result is never rewritten.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from rnnbook import studies
from rnnbook.atomic import remove_stale, temporary_name, write_once
from rnnbook.dask_cluster import check_workers, dask_client
from rnnbook.records import read_records
from rnnbook.sweeps import Grid, OnResult, exception_line, grid_points

if TYPE_CHECKING:
    import pandas as pd

STUDY_EXECUTORS = ("local", "dask")


def study_point_id(point: Mapping[str, object], version: str = "") -> str:
    """A file name for one combination: ``lr=0.01,seed=3`` (made safe) plus a short hash of
    the exact values and of ``version`` (the preset and the study's digest: notebook, presets
    and package source), so two combinations, or one under another preset or changed code,
    never share a name."""
    text = ",".join(f"{name}={value}" for name, value in point.items())
    safe = re.sub(r"[^A-Za-z0-9=.,+-]+", "_", text)[:80] or "defaults"
    exact = json.dumps([point, version], sort_keys=True, default=str).encode()
    return f"{safe}-{hashlib.sha256(exact).hexdigest()[:10]}"


def run_study_point(
    study: str, preset: str | None, point: dict, out: str, root: str | None = None, version=""
) -> dict:
    """Execute one combination of a study sweep and write its result (runs in the worker).

    The executed notebook goes to ``out/<id>.ipynb`` and then ``out/<id>.json`` (parameters,
    records, status), both atomically; a study that raises gives a ``failed`` row (its
    executed notebook kept as ``<id>.failed.ipynb``), written nowhere, so it runs again."""
    out_dir = Path(out)
    name = study_point_id(point, version)
    notebook = out_dir / f"{name}.ipynb"
    start = time.perf_counter()
    try:
        studies.run_study(study, preset=preset, parameters=point, output=notebook, root=root)
        records = read_records(notebook)
    except Exception as error:  # a failed study is a row, the sweep goes on
        line = " ".join(exception_line(error).split())
        return {"status": "failed", "error": line, "notebook": str(notebook), "point": point}
    row = {
        "status": "executed",
        "error": "",
        "wall_s": round(time.perf_counter() - start, 3),
        "notebook": str(notebook),
        "point": point,
        "records": records,
    }
    write_once(out_dir / f"{name}.json", json.dumps(row, indent=1, default=_plain))
    return row


def _plain(value):
    """JSON for the numpy and torch scalars a notebook records."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a sweep result")


def sweep_study(
    study: str,
    *,
    preset: str | None = None,
    grid: Grid | None = None,
    seeds: Iterable[int] | None = None,
    executor: str = "local",
    workers: int = 1,
    address: str | None = None,
    cluster=None,
    out: str | Path | None = None,
    root: str | Path | None = None,
    progress: bool = True,
    on_result: OnResult = None,
) -> pd.DataFrame:
    """Execute ``study`` with papermill for every combination of ``grid`` and ``seeds`` (the
    study's ``seed`` parameter), on ``preset``, and return the table of their records.

    Every name and value is validated against the study's parameters and rules before anything
    runs. Each combination writes ``out/<id>.ipynb`` and ``out/<id>.json`` (default ``out``:
    ``_build/sweeps/<study>``); ``out/results.csv`` and ``out/results.parquet`` collect every
    finished one. A combination whose ``<id>.json`` is there is not run again (``status ==
    "done"``). ``executor``: ``"local"`` (``workers`` notebooks at a time on this machine; each
    uses the cores it is given) or ``"dask"`` (as in :func:`sweep`; workers must see ``out`` and
    the repository).
    """
    if executor not in STUDY_EXECUTORS:
        raise ValueError(
            f"sweep_study executor = {executor!r} is not allowed: choose one of {STUDY_EXECUTORS}"
        )
    workers = check_workers(workers)
    root = studies.find_root() if root is None else Path(root).resolve()
    points = checked_points(study, preset, grid, seeds, root)
    out_dir = Path(out) if out is not None else root / "_build" / "sweeps" / study
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale(out_dir)  # what killed sweeps left
    version = f"{preset or studies.BOOK}:{studies.study_digest(study, root=root)}"
    rows, todo = _split_finished(points, out_dir, version, on_result)
    args = (study, preset, str(out_dir), str(root), version)
    for row in _study_rows(todo, args, executor, workers, address, cluster, progress):
        rows[study_point_id(row["point"], version)] = row
        if on_result is not None:
            on_result(row)
    table = _study_table(points, rows, version)
    _write_tables(table, out_dir)
    return table


def checked_points(study: str, preset, grid: Grid | None, seeds, root: Path) -> list[dict]:
    """Every combination of the sweep, each checked as ``rnnbook run`` checks one run: a
    ValueError naming the study, the parameter, the value and what is allowed."""
    points = grid_points(grid, seeds)
    for point in points:
        try:
            studies.resolve_parameters(study, preset, point, root=root)
        except ValueError as error:
            raise ValueError(f"sweep of {study!r}: {error}") from None
    return points


def _split_finished(points, out_dir: Path, version: str, on_result: OnResult):
    """(id -> row of each combination with a finished result, the combinations still to run)."""
    rows: dict[str, dict] = {}
    todo = []
    for point in points:
        name = study_point_id(point, version)
        done = out_dir / f"{name}.json"
        if done.is_file():
            rows[name] = json.loads(done.read_text()) | {"status": "done"}
            if on_result is not None:
                on_result(rows[name])
        else:
            todo.append(point)
    return rows, todo


def _study_rows(todo, args, executor, workers, address, cluster, progress):
    study, preset, out, root, version = args
    bar = tqdm(total=len(todo), disable=not progress, desc=study)
    if executor == "dask" and todo:
        from distributed import as_completed

        with dask_client(address=address, cluster=cluster, workers=workers) as client:
            futures = [
                client.submit(run_study_point, study, preset, p, out, root, version, pure=False)
                for p in todo
            ]
            for future in as_completed(futures):
                yield future.result()
                bar.update()
    elif workers > 1 and len(todo) > 1:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(workers) as pool:  # each notebook runs in its own kernel
            futures = [pool.submit(run_study_point, *args[:2], p, *args[2:]) for p in todo]
            for future in as_completed(futures):
                yield future.result()
                bar.update()
    else:
        for point in todo:
            yield run_study_point(study, preset, point, out, root, version)
            bar.update()
    bar.close()


def _study_table(points, rows: dict[str, dict], version: str) -> pd.DataFrame:
    import pandas as pd

    records = []
    for point in points:
        row = rows[study_point_id(point, version)]
        records.append(
            {
                **point,
                "status": row["status"],
                "error": row.get("error", ""),
                **row.get("records", {}),
                "wall_s": row.get("wall_s", math.nan),
                "notebook": row["notebook"],
            }
        )
    return pd.DataFrame.from_records(records)


def _write_tables(table: pd.DataFrame, out_dir: Path) -> None:
    """``results.csv`` and ``results.parquet``, each written to a temporary name and renamed."""
    for name, write in (("results.csv", _to_csv), ("results.parquet", _to_parquet)):
        partial = out_dir / temporary_name(name)
        try:
            write(table, partial)
            os.replace(partial, out_dir / name)
        finally:
            partial.unlink(missing_ok=True)


def _to_csv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, index=False)


def _to_parquet(table: pd.DataFrame, path: Path) -> None:
    # list-valued parameters (e.g. coherences) are stored as their JSON text
    plain = table.apply(
        lambda column: (
            column.map(json.dumps)
            if column.map(lambda v: isinstance(v, (list, tuple, dict))).any()
            else column
        )
    )
    plain.to_parquet(path, index=False)
