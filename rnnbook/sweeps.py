"""Sweeps: a grid of trained runs, or a grid of study notebooks, on this machine or on Dask.

Run level: every combination of ``grid`` (dotted names of the spec's config fields, or bare
field names when they are unambiguous) and ``seeds``, each an ordinary cached run::

    table = sweep(base_spec, grid={"train_config.lr": [1e-3, 1e-2], "n_rec": [32, 64]},
                  seeds=range(3))                        # worker processes on this machine
    table = sweep(base_spec, grid, seeds=range(3), executor="dask")            # LocalCluster
    table = sweep(base_spec, grid, executor="dask", address="tcp://host:8786")  # a scheduler
    table = sweep(base_spec, grid, executor="dask", cluster=SLURMCluster(...))  # dask-jobqueue

Study level (``rnnbook.study_sweeps``): every combination of a study notebook's parameters,
executed with papermill (``sweep_study``).

``sweep`` returns a pandas DataFrame with one row per combination, in grid order (seeds innermost):
its grid values, ``seed``, ``status`` (``trained`` / ``cached`` / ``failed`` for runs,
``executed`` / ``done`` / ``failed`` for studies), ``error`` (the failure's exception line), what
was recorded (the run's final losses and accuracy; the study's records), ``wall_s`` and the
cache ``key`` (runs) or ``notebook`` path (studies). A run or study that raises is a ``failed``
row; the others go on.

Nothing finished is lost: a run is stored in the run cache by the process that trained it, and a
study writes its executed notebook and then its result (``<id>.json``, parameters and records)
atomically under ``out``. Running the same sweep again only runs what has no stored result, and
never rewrites a finished one. Every grid value is validated (by the configs, or by the study's
parameter rules) before anything runs.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from rnnbook.dask_cluster import check_workers, dask_client
from rnnbook.provenance import note_run
from rnnbook.runs import RunSpec, default_cache_dir, fit, is_stored, load_run
from rnnbook.seeding import check_seed

if TYPE_CHECKING:
    import pandas as pd

EXECUTORS = ("processes", "serial", "stacked", "auto", "dask")

SECTIONS = ("task_config", "model_config", "train_config")
RUN_COLUMNS = ("status", "error", "steps", "final_loss", "eval_loss", "eval_accuracy", "wall_s")

Grid = Mapping[str, Sequence]
OnResult = Callable[[dict], None] | None


# -- the grid ---------------------------------------------------------------------------------


def grid_points(grid: Grid | None, seeds: Iterable[int] | None) -> list[dict]:
    """Every combination of ``grid`` and ``seeds``, seeds innermost; each a dict name -> value
    with ``seed`` last. ``grid`` maps a name to its values, or a tuple of names to tuples of
    values that go together (``("optimizer", "lr"): [("eg", 0.2), ("sgd", 0.1)]``: one axis,
    not a product). ValueError for an empty or non-list value list, or a linked value of the
    wrong length."""
    grid = dict(grid or {})
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(
                f"sweep grid {key!r} = {values!r} is not allowed: want a non-empty list of values"
            )
        if isinstance(key, tuple):
            for value in values:
                if not isinstance(value, (tuple, list)) or len(value) != len(key):
                    raise ValueError(
                        f"sweep grid {key!r} has the value {value!r}: want one tuple of "
                        f"{len(key)} values per point, one for each of {key}"
                    )
    names = [n for key in grid for n in (key if isinstance(key, tuple) else (key,))]
    if len(set(names)) != len(names):
        raise ValueError(f"sweep grid names {names} repeat a name: give each once")
    if "seed" in names and seeds is not None:
        raise ValueError("sweep: give the seeds either as grid 'seed' or as seeds=, not both")
    seeds = None if seeds is None else list(seeds)
    if seeds is not None:
        if not seeds:
            raise ValueError("sweep seeds = [] is not allowed: want one or more seeds")
        for seed in seeds:
            check_seed(seed, "sweep seed")
        grid["seed"] = seeds
    points = []
    for combination in itertools.product(*grid.values()):
        point = {}
        for key, value in zip(grid, combination, strict=True):
            point.update(zip(key, value, strict=True) if isinstance(key, tuple) else {key: value})
        points.append(point)
    return points


def _field_path(base: RunSpec, name: str) -> tuple[str | None, str]:
    """(section, field) that a grid name means: ``seed`` -> (None, "seed"); ``lr`` or
    ``train_config.lr`` -> ("train_config", "lr"). ValueError naming the allowed names."""
    if name == "seed":
        return None, "seed"
    fields = {s: [f.name for f in dataclasses.fields(getattr(base, s))] for s in SECTIONS}
    if "." in name:
        section, field = name.split(".", 1)
        if section in fields and field in fields[section]:
            return section, field
    else:
        found = [s for s in SECTIONS if name in fields[s]]
        if len(found) == 1:
            return found[0], name
        if len(found) > 1:
            raise ValueError(
                f"sweep grid name {name!r} is ambiguous: say "
                + " or ".join(f"'{s}.{name}'" for s in found)
            )
    allowed = ", ".join(f"{s}.{f}" for s in SECTIONS for f in fields[s])
    raise ValueError(
        f"sweep grid name {name!r} is not a field of the spec: allowed are seed, {allowed} "
        "(a bare field name where it is unambiguous)"
    )


def grid_specs(base: RunSpec, grid: Grid | None, seeds: Iterable[int] | None = None):
    """(point, spec) for every combination; each spec is validated (its configs name the field
    and value of anything wrong) before the first is returned."""
    points = grid_points(grid, seeds)
    paths = {name: _field_path(base, name) for name in points[0]}
    out = []
    for point in points:
        changes: dict[str, dict] = {}
        for name, value in point.items():
            section, field = paths[name]
            changes.setdefault(section, {})[field] = value
        top = changes.pop(None, {})
        sections = {s: dataclasses.replace(getattr(base, s), **c) for s, c in changes.items()}
        try:
            spec = dataclasses.replace(base, **sections, **top)
        except (TypeError, ValueError) as error:
            raise ValueError(f"sweep grid point {point}: {error}") from None
        out.append((point, spec))
    return out


# -- run level ---------------------------------------------------------------------------------


def run_row(spec: RunSpec, cache_dir: str | Path) -> dict:
    """Train (or load) one run and return its result row (without the grid values); a run that
    raises gives a ``failed`` row with its exception line. Runs in the worker."""
    try:
        run = fit(spec, cache_dir=cache_dir, progress=False)
    except Exception as error:  # a failed run is a row, the sweep goes on
        return {"status": "failed", "error": exception_line(error), "key": spec.key()}
    return _history_row(run, "cached" if run.cached else "trained")


def _history_row(run, status: str) -> dict:
    history = run.history
    return {
        "status": status,
        "error": "",
        "steps": history.n_steps,
        "final_loss": history.loss[-1] if history.loss else math.nan,
        "eval_loss": history.final_loss,
        "eval_accuracy": history.final_accuracy,
        "wall_s": run.metadata.get("wall_time_s", math.nan),
        "key": run.path.name,
    }


def exception_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def sweep(
    base: RunSpec,
    grid: Grid | None = None,
    *,
    seeds: Iterable[int] | None = None,
    executor: str = "processes",
    workers: int | None = None,
    address: str | None = None,
    cluster=None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    on_result: OnResult = None,
) -> pd.DataFrame:
    """Train every combination of ``grid`` and ``seeds`` on ``base`` and return the table.

    ``grid``: name -> list of values; a name is ``section.field`` (``train_config.lr``,
    ``model_config.n_rec``, ``task_config.coherences``) or a bare field name that only one
    config has (``lr``). ``seeds``: default ``[base.seed]``.

    ``executor``:
    - ``"processes"`` (default): ``workers`` one-thread worker processes (default: the cores);
    - ``"stacked"``: the runs as stacked batches, one per group that can stack (same
      architecture: ``fit_many``'s rules);
    - ``"serial"``: one after another in this process;
    - ``"auto"``: ``fit_many``'s choice (stacked where it wins, else processes);
    - ``"dask"``: Dask distributed: a ``LocalCluster`` of ``workers`` one-thread workers
      (default), the scheduler at ``address``, or ``cluster`` (e.g. a ``dask_jobqueue``
      ``SLURMCluster``). Workers must see ``cache_dir`` (a shared file system on a cluster).

    Runs already in the cache are loaded (``status == "cached"``), never retrained; a run that
    raises (a ``DivergenceError``, ...) is a ``failed`` row with its error and is retried when
    the sweep is run again. ``on_result(row)`` is called in this process as each row arrives.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"sweep executor = {executor!r} is not allowed: choose one of {EXECUTORS}")
    if (address is not None or cluster is not None) and executor != "dask":
        raise ValueError(
            f"sweep: address= and cluster= are for executor='dask', not executor={executor!r}"
        )
    workers = check_workers(workers)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    points = grid_specs(base, grid, seeds)
    rows, todo = _split_stored(points, cache_dir, on_result)
    if executor == "auto":
        from rnnbook.training.many import auto_method

        executor = auto_method(todo, workers) if todo else "serial"
    if todo:
        runner = {"stacked": _stacked, "dask": _dask}.get(executor, _each)
        results = runner(todo, cache_dir, executor, workers, address, cluster, progress)
        rows |= _collect(results, len(todo), on_result)
    for row in rows.values():
        if row["status"] != "failed":
            note_run(row["key"], trained=row["status"] == "trained")
    return _table(points, rows)


def _collect(results, n_runs: int, on_result: OnResult) -> dict[str, dict]:
    """The rows of ``results`` ((spec, row) pairs) by this process's key of each spec: a worker
    whose training code differs (the source was edited while the sweep ran) stores its run
    under another key, which the row keeps, and a warning says so."""
    rows, moved = {}, 0
    for spec, row in results:
        rows[spec.key()] = row
        moved += row["key"] != spec.key()
        if on_result is not None:
            on_result(row)
    if moved:
        warnings.warn(
            f"sweep: {moved} of {n_runs} runs were stored under a key other than this "
            "process's: the package's training code changed while the sweep ran, so those "
            "runs were trained by another version of it (the table's key column says where "
            "each is); run the sweep again to train every run with one version",
            stacklevel=3,
        )
    return rows


def load_runs(table: pd.DataFrame, *, cache_dir: str | Path | None = None) -> list:
    """The stored ``Run`` of every row of a ``sweep`` table that finished (None for a failed
    row), in the table's order: the trained networks and histories behind the numbers."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return [
        None if row.status == "failed" else load_run(cache_dir / row.key)
        for row in table.itertuples()
    ]


def _split_stored(points, cache_dir: Path, on_result: OnResult) -> tuple[dict, list[RunSpec]]:
    """(key -> row of each run already stored, the distinct specs still to train)."""
    rows: dict[str, dict] = {}
    todo: dict[str, RunSpec] = {}
    for _, spec in points:
        key = spec.key()
        if key in rows or key in todo:
            continue
        row = _cached_row(spec, cache_dir)
        if row is None:
            todo[key] = spec
        else:
            rows[key] = row
            if on_result is not None:
                on_result(row)
    return rows, list(todo.values())


def _cached_row(spec: RunSpec, cache_dir: Path) -> dict | None:
    path = cache_dir / spec.key()
    if not is_stored(path):
        return None
    try:
        return _history_row(load_run(path, spec=spec), "cached")
    except Exception:  # a damaged entry: fit() trains it again (with a warning)
        return None


def _table(points, rows: dict[str, dict]) -> pd.DataFrame:
    import pandas as pd

    records = []
    for point, spec in points:
        row = dict(rows[spec.key()])
        key = row.pop("key")
        records.append({**point, **{c: row.get(c) for c in RUN_COLUMNS}, "key": key})
    return pd.DataFrame.from_records(records)


def _each(todo, cache_dir, executor, workers, address, cluster, progress):
    """One ``run_row`` per spec: in this process (serial) or in worker processes."""
    bar = tqdm(total=len(todo), disable=not progress, desc="runs")
    if executor == "serial" or len(todo) == 1 or workers == 1:
        for spec in todo:
            yield spec, run_row(spec, cache_dir)
            bar.update()
        bar.close()
        return
    from concurrent.futures import as_completed

    from rnnbook.training.many.processes import worker_futures

    calls = [(spec, str(cache_dir)) for spec in todo]
    with worker_futures(run_row, calls, workers) as futures:
        spec_of = dict(zip(futures, todo, strict=True))
        for future in as_completed(futures):
            yield spec_of[future], future.result()
            bar.update()
    bar.close()


def _stacked(todo, cache_dir, executor, workers, address, cluster, progress):
    """The runs as stacked batches: one per group of runs that can stack (same architecture)."""
    from rnnbook.training.many import fit_many
    from rnnbook.training.many.failures import EnsembleError

    bar = tqdm(total=len(todo), disable=not progress, desc="runs")  # one bar for the sweep
    for group in stack_groups(todo):
        try:
            fit_many(group, cache_dir=cache_dir, workers=workers, method="stacked", progress=False)
            failures = []
        except EnsembleError as error:
            failures = error.failures
        bar.update(len(group))
        for spec in group:
            key = spec.key()
            line = next((f for f in failures if f"key {key[:12]}" in f), None)
            if line is not None:
                yield spec, {"status": "failed", "error": line.split(": ", 1)[-1], "key": key}
            else:
                yield spec, _history_row(load_run(cache_dir / key, spec=spec), "trained")
    bar.close()


def stack_groups(specs: Sequence[RunSpec]) -> list[list[RunSpec]]:
    """``specs`` split, in order of first appearance, into groups that can each train as one
    stack (``rnnbook.training.many.stack_problem`` is None for each group)."""
    from rnnbook.training.many import stack_problem

    groups: list[list[RunSpec]] = []
    for spec in specs:
        group = next((g for g in groups if stack_problem([*g, spec]) is None), None)
        if group is None:
            groups.append([spec])
        else:
            group.append(spec)
    return groups


def _dask(todo, cache_dir, executor, workers, address, cluster, progress):
    from distributed import as_completed

    with dask_client(address=address, cluster=cluster, workers=workers) as client:
        futures = [
            client.submit(run_row, spec, str(cache_dir), key=f"rnnbook-run-{spec.key()[:24]}")
            for spec in todo
        ]
        spec_of = {future.key: spec for future, spec in zip(futures, todo, strict=True)}
        bar = tqdm(total=len(futures), disable=not progress, desc="runs")
        for future in as_completed(futures):
            yield spec_of[future.key], future.result()
            bar.update()
        bar.close()
