"""Sweeps: grids of runs and of study notebooks, their tables, resume after a kill, failed rows,
and the same table on a 2-worker Dask LocalCluster as in one process."""

import json
import re
import signal
import subprocess
import sys
import textwrap

import nbformat
import pandas as pd
import pytest

import rnnbook.runs as runs
from rnnbook import cli, study_sweeps, sweeps

BASE_CODE = """
from rnnbook.models import ModelConfig
from rnnbook.runs import RunSpec
from rnnbook.tasks import PerceptualDecisionConfig
from rnnbook.training import TrainConfig
BASE = RunSpec(
    task="perceptual_decision",
    task_config=PerceptualDecisionConfig(stimulus_ms=200, coherences=[0.2, 0.4]),
    model_config=ModelConfig(n_rec=16, activation="tanh"),
    train_config=TrainConfig(n_steps=20, batch_size=16, eval_every=10, eval_batch_size=64),
)
GRID = {"train_config.lr": [0.001, 0.01], "n_rec": [16, 24]}
"""
namespace: dict = {}
exec(BASE_CODE, namespace)
BASE, GRID = namespace["BASE"], namespace["GRID"]
SEEDS = [0, 1]


def _count_trainings(monkeypatch) -> list:
    calls = []
    real_train = runs.train

    def counting(*args, **kwargs):
        calls.append(1)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(runs, "train", counting)
    return calls


# -- the grid -------------------------------------------------------------------------------


def test_grid_names_resolve_to_config_fields():
    points = sweeps.grid_specs(BASE, {"lr": [0.1], "model_config.n_rec": [8]}, seeds=[3])
    ((point, spec),) = points
    assert point == {"lr": 0.1, "model_config.n_rec": 8, "seed": 3}
    assert (spec.train_config.lr, spec.model_config.n_rec, spec.seed) == (0.1, 8, 3)
    assert spec.task_config == BASE.task_config


def test_linked_grid_names_vary_together():
    grid = {("optimizer", "lr"): [("adam", 0.1), ("adam", 0.2)], "n_rec": [8, 12]}
    points = sweeps.grid_points(grid, seeds=[0])
    assert points == [
        {"optimizer": "adam", "lr": 0.1, "n_rec": 8, "seed": 0},
        {"optimizer": "adam", "lr": 0.1, "n_rec": 12, "seed": 0},
        {"optimizer": "adam", "lr": 0.2, "n_rec": 8, "seed": 0},
        {"optimizer": "adam", "lr": 0.2, "n_rec": 12, "seed": 0},
    ]
    specs = [spec for _, spec in sweeps.grid_specs(BASE, grid, seeds=[0])]
    assert [(s.train_config.lr, s.model_config.n_rec) for s in specs] == [
        (0.1, 8), (0.1, 12), (0.2, 8), (0.2, 12)
    ]  # fmt: skip
    with pytest.raises(ValueError, match=r"want one tuple of 2 values per point"):
        sweeps.grid_points({("optimizer", "lr"): [("adam",)]}, None)
    with pytest.raises(ValueError, match=r"repeat a name"):
        sweeps.grid_points({("lr", "n_rec"): [(0.1, 8)], "lr": [0.2]}, None)


def test_load_runs_gives_the_run_behind_each_row(serial_table):
    table, cache = serial_table
    loaded = sweeps.load_runs(table, cache_dir=cache)
    assert [run.path.name for run in loaded] == table.key.tolist()
    assert [run.history.loss[-1] for run in loaded] == table.final_loss.tolist()


@pytest.mark.parametrize(
    "grid, seeds, message",
    [
        ({"dt": [10.0]}, None, r"'dt' is ambiguous: say 'task_config.dt' or 'model_config.dt'"),
        ({"learning_rate": [0.1]}, None, r"'learning_rate' is not a field .* train_config\.lr"),
        ({"train_config.nope": [1]}, None, r"'train_config.nope' is not a field"),
        ({"lr": []}, None, r"'lr' = \[\] is not allowed: want a non-empty list"),
        ({"lr": 0.1}, None, r"'lr' = 0.1 is not allowed: want a non-empty list"),
        ({"lr": [0.1, -1.0]}, None, r"TrainConfig.lr = -1.0"),
        ({"n_rec": [16.5]}, None, r"ModelConfig.n_rec = 16.5"),
        ({}, [0, -1], r"sweep seed = -1 is not allowed"),
        ({}, [], r"seeds = \[\] is not allowed"),
        ({"seed": [1]}, [2], r"either as grid 'seed' or as seeds="),
    ],
)
def test_a_bad_grid_is_refused_before_anything_trains(grid, seeds, message, tmp_path, monkeypatch):
    trainings = _count_trainings(monkeypatch)
    with pytest.raises(ValueError, match=message):
        sweeps.sweep(BASE, grid, seeds=seeds, executor="serial", cache_dir=tmp_path)
    assert trainings == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"executor": "slurm"}, r"executor = 'slurm' is not allowed: choose one of"),
        ({"executor": "serial", "address": "tcp://x:1"}, r"address= and cluster= are for"),
        ({"workers": 0}, r"workers = 0 is not allowed"),
    ],
)
def test_bad_executor_arguments_are_refused(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        sweeps.sweep(BASE, GRID, cache_dir=tmp_path, **kwargs)


# -- the table ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def serial_table(tmp_path_factory):
    cache = tmp_path_factory.mktemp("serial")
    return sweeps.sweep(BASE, GRID, seeds=SEEDS, executor="serial", cache_dir=cache), cache


def test_the_table_has_a_row_per_run_in_grid_order(serial_table):
    table, cache = serial_table
    assert len(table) == 8
    assert list(table.columns[:3]) == ["train_config.lr", "n_rec", "seed"]
    assert table[["train_config.lr", "n_rec", "seed"]].values.tolist() == [
        [lr, n, s] for lr in GRID["train_config.lr"] for n in GRID["n_rec"] for s in SEEDS
    ]
    assert set(table.status) == {"trained"} and set(table.error) == {""}
    assert (table.steps == 20).all() and table.eval_accuracy.between(0, 1).all()
    for row in table.itertuples():
        assert runs.is_stored(cache / row.key)


def test_a_second_sweep_loads_every_run(serial_table, monkeypatch):
    table, cache = serial_table
    trainings = _count_trainings(monkeypatch)
    again = sweeps.sweep(BASE, GRID, seeds=SEEDS, executor="processes", cache_dir=cache)
    assert trainings == [] and set(again.status) == {"cached"}
    pd.testing.assert_frame_equal(again.drop(columns="status"), table.drop(columns="status"))


def test_a_dask_local_cluster_gives_the_same_table_as_the_serial_run(serial_table, tmp_path):
    table, _ = serial_table
    on_dask = sweeps.sweep(
        BASE, GRID, seeds=SEEDS, executor="dask", workers=2, cache_dir=tmp_path, progress=False
    )
    assert set(on_dask.status) == {"trained"}
    pd.testing.assert_frame_equal(on_dask.drop(columns="wall_s"), table.drop(columns="wall_s"))


def test_worker_processes_give_the_same_table_as_the_serial_run(serial_table, tmp_path):
    table, _ = serial_table
    in_processes = sweeps.sweep(
        BASE, GRID, seeds=SEEDS, executor="processes", workers=2, cache_dir=tmp_path
    )
    pd.testing.assert_frame_equal(in_processes.drop(columns="wall_s"), table.drop(columns="wall_s"))


def test_the_stacked_executor_stacks_each_architecture_and_stores_every_run(tmp_path):
    assert [len(g) for g in sweeps.stack_groups([s for _, s in sweeps.grid_specs(BASE, GRID)])] == [
        2,
        2,
    ]
    table = sweeps.sweep(BASE, GRID, executor="stacked", cache_dir=tmp_path, progress=False)
    assert set(table.status) == {"trained"} and len(table) == 4
    assert all(runs.is_stored(tmp_path / key) for key in table.key)


def test_a_diverging_run_is_a_failed_row_and_the_others_finish(tmp_path, monkeypatch):
    grid = {"lr": [0.001, 1000.0]}
    table = sweeps.sweep(BASE, grid, seeds=[0], executor="serial", cache_dir=tmp_path)
    ok, bad = table.iloc[0], table.iloc[1]
    assert ok.status == "trained" and runs.is_stored(tmp_path / ok.key)
    assert bad.status == "failed" and bad.error.startswith("DivergenceError")
    assert re.search(r"step \d+", bad.error) and not (tmp_path / bad.key).exists()
    trainings = _count_trainings(monkeypatch)
    again = sweeps.sweep(BASE, grid, seeds=[0], executor="serial", cache_dir=tmp_path)
    assert again.status.tolist() == ["cached", "failed"] and len(trainings) == 1


def test_a_run_stored_under_another_key_still_fills_its_row(tmp_path, monkeypatch):
    """A worker whose training code differs from this process's (the source was edited while
    the sweep ran) stores its run under another key: the row is still the run's, with a
    warning, never a KeyError."""
    real = sweeps.run_row

    def elsewhere(spec, cache_dir):
        return {**real(spec, cache_dir), "key": "f" * 64}

    monkeypatch.setattr(sweeps, "run_row", elsewhere)
    with pytest.warns(UserWarning, match="2 of 2 runs were stored under a key other"):
        table = sweeps.sweep(BASE, {"lr": [0.001, 0.002]}, seeds=[0], executor="serial",
                             cache_dir=tmp_path)  # fmt: skip
    assert table.status.tolist() == ["trained", "trained"] and set(table.key) == {"f" * 64}


def test_a_killed_sweep_resumes_with_only_the_runs_it_had_not_finished(tmp_path, monkeypatch):
    """The sweep is killed (SIGKILL) right after its first run is stored; run again, it trains
    exactly the other seven."""
    code = """
        import os, signal, sys
        from rnnbook import sweeps
        def die(row):
            os.kill(os.getpid(), signal.SIGKILL)
        sweeps.sweep(BASE, GRID, seeds=[0, 1], executor="serial", cache_dir=sys.argv[1],
                     progress=False, on_result=die)
    """
    source = BASE_CODE + textwrap.dedent(code)
    killed = subprocess.run([sys.executable, "-c", source, str(tmp_path)], timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 1
    trainings = _count_trainings(monkeypatch)
    table = sweeps.sweep(BASE, GRID, seeds=SEEDS, executor="serial", cache_dir=tmp_path)
    assert len(trainings) == 7
    assert table.status.value_counts().to_dict() == {"trained": 7, "cached": 1}


def test_the_worked_slurm_configuration_makes_a_job_script():
    """The dask-jobqueue configuration shown on the "Running at scale" page is valid: it is run
    here as written, and its job script asks SLURM for what the page says."""
    pytest.importorskip("dask_jobqueue")
    notebook = nbformat.read("notebooks/running_at_scale.ipynb", as_version=4)
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "SLURMCluster" in b]
    setup = block.split("cluster.scale")[0]  # everything before jobs are submitted
    scope: dict = {}
    exec(setup, scope)
    cluster = scope["cluster"]
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH" in script and "--cpus-per-task=1" in script
    assert "OMP_NUM_THREADS=1" in script


# -- study level ----------------------------------------------------------------------------

KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
PRESETS = """\
tiny:
  smoke:
    scale: 0.5
  smoke_checks:
    value: [0.0, 100.0]
  allowed:
    seed: ">= 0"
    scale: "> 0"
"""


@pytest.fixture
def root(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("seed = 0\nscale = 1.0", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(
                # glue is what rnnbook.record stores (without importing torch: fast)
                "from myst_nb import glue\n\n"
                'if scale == 3.0:\n    raise RuntimeError("scale 3 breaks this study")\n'
                'glue("value", scale * (seed + 1), display=False)'
            ),
        ],
        metadata={"kernelspec": KERNEL},
    )
    (tmp_path / "notebooks").mkdir()
    nbformat.write(notebook, tmp_path / "notebooks" / "tiny.ipynb")
    (tmp_path / "notebooks" / "presets.yaml").write_text(PRESETS)
    return tmp_path


def test_a_study_sweep_tabulates_every_combination_and_resumes(root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    rows = []
    table = study_sweeps.sweep_study(
        "tiny", grid={"scale": [1.0, 3.0]}, seeds=[0, 2], out=out, root=root, on_result=rows.append
    )
    assert table[["scale", "seed", "status"]].values.tolist() == [
        [1.0, 0, "executed"],
        [1.0, 2, "executed"],
        [3.0, 0, "failed"],
        [3.0, 2, "failed"],
    ]
    assert table.value.tolist()[:2] == [1.0, 3.0]
    failed = table.notebook[2].replace(".ipynb", ".failed.ipynb")
    assert table.error[2] == (
        "StudyError: study 'tiny' failed in cell [3]: RuntimeError: scale 3 breaks this study "
        f"(executed notebook: {failed})"
    )
    for name in ("results.csv", "results.parquet"):
        assert (out / name).is_file()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), table)
    assert len(list(out.glob("*.json"))) == 2 and len(rows) == 4
    finished = {p: p.stat().st_mtime_ns for p in out.glob("*.json")}
    ran = []
    monkeypatch.setattr(study_sweeps.studies, "run_study", lambda *a, **k: ran.append(k) or 1 / 0)
    again = study_sweeps.sweep_study(
        "tiny", grid={"scale": [1.0, 3.0]}, seeds=[0, 2], out=out, root=root
    )
    assert again.status.tolist() == ["done", "done", "failed", "failed"]
    assert len(ran) == 2  # only the two without a finished result
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.json")} == finished


def test_a_killed_study_sweep_resumes(root, tmp_path):
    out = tmp_path / "out"
    code = f"""
        import os, signal
        from rnnbook import study_sweeps
        study_sweeps.sweep_study("tiny", seeds=[0, 1, 2], out={str(out)!r}, root={str(root)!r},
                           progress=False, on_result=lambda row: os.kill(os.getpid(), 9))
    """
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert len(list(out.glob("*.json"))) == 1 and not list(out.glob(".*partial*"))
    table = study_sweeps.sweep_study("tiny", seeds=[0, 1, 2], out=out, root=root, progress=False)
    assert sorted(table.status) == ["done", "executed", "executed"]
    assert table.value.tolist() == [1.0, 2.0, 3.0]


def test_a_study_sweep_killed_while_writing_a_result_leaves_none_and_runs_it_again(root, tmp_path):
    out = tmp_path / "out"
    code = f"""
        import os, signal
        from rnnbook import atomic, study_sweeps
        def die(*args):
            os.kill(os.getpid(), signal.SIGKILL)
        atomic.os.link = die  # killed between the temporary file and the result
        study_sweeps.sweep_study(
            "tiny", seeds=[0], out={str(out)!r}, root={str(root)!r}, progress=False
        )
    """
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert list(out.glob("*.json")) == [] and len(list(out.glob(".tmp-*.json.*"))) == 1
    table = study_sweeps.sweep_study("tiny", seeds=[0], out=out, root=root, progress=False)
    assert table.status.tolist() == ["executed"] and list(out.glob(".tmp-*")) == []
    assert json.loads(next(out.glob("*.json")).read_text())["records"] == {"value": 1.0}


def test_a_study_sweep_validates_every_value_before_running(root, tmp_path, monkeypatch):
    monkeypatch.setattr(study_sweeps.studies, "run_study", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(ValueError, match=r"parameter scale = -1\.0"):
        study_sweeps.sweep_study("tiny", grid={"scale": [1.0, -1.0]}, out=tmp_path, root=root)
    with pytest.raises(ValueError, match=r"unknown parameter 'lr'"):
        study_sweeps.sweep_study("tiny", grid={"lr": [1.0]}, out=tmp_path, root=root)


def test_rnnbook_sweep_runs_the_grid_from_the_command_line(root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RNNBOOK_ROOT", str(root))
    out = tmp_path / "cli"
    status = cli.main(
        ["sweep", "tiny", "--preset", "smoke", "--grid", "scale=0.5,2", "--seeds", "0:2",
         "--out", str(out)]
    )  # fmt: skip
    assert status == 0
    table = pd.read_csv(out / "results.csv")
    assert table[["scale", "seed", "value"]].values.tolist() == [
        [0.5, 0, 0.5],
        [0.5, 1, 1.0],
        [2.0, 0, 2.0],
        [2.0, 1, 4.0],
    ]
    assert "results.csv" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--grid", "scale"], r"--grid scale: want NAME=V1,V2"),
        (["--grid", "scale=abc"], r"parameter scale = 'abc' is not allowed"),
        (["--grid", "nope=1"], r"unknown parameter 'nope'"),
        (["--seeds", "3:1"], r"--seeds 3:1: want"),
        (["--seeds", "a"], r"--seeds a: want"),
    ],
)
def test_rnnbook_sweep_refuses_bad_arguments_with_one_line(
    args, message, root, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("RNNBOOK_ROOT", str(root))
    monkeypatch.setattr(study_sweeps.studies, "run_study", lambda *a, **k: pytest.fail("ran"))
    assert cli.main(["sweep", "tiny", "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnbook: error: ") and len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_study_point_ids_are_unique_and_safe():
    a = study_sweeps.study_point_id({"coherences": [0.1, 0.2], "seed": 1})
    b = study_sweeps.study_point_id({"coherences": [0.1, 0.2], "seed": 10})
    assert a != b and "/" not in a and " " not in a
    assert json.dumps(a)
