"""Fault injection on the run cache and on saved results: a process killed while writing, files
damaged, altered or swapped, a pickle that would run code, two writers at once, and the same run
trained in two processes."""

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

import rnnbook.runs as runs
from rnnbook import atomic
from rnnbook.analysis.results import Result
from rnnbook.models import ModelConfig
from rnnbook.runs import DamagedRunError, RunSpec, fit, is_stored, load_run
from rnnbook.tasks import PerceptualDecisionConfig
from rnnbook.training import TrainConfig

SPEC = RunSpec(
    task="perceptual_decision",
    task_config=PerceptualDecisionConfig(stimulus_ms=200, coherences=[0.2, 0.4]),
    model_config=ModelConfig(n_rec=16, activation="tanh"),
    train_config=TrainConfig(n_steps=20, batch_size=16, eval_every=10, eval_batch_size=64),
    seed=4,
)
SPEC_CODE = """
from rnnbook.models import ModelConfig
from rnnbook.runs import RunSpec
from rnnbook.tasks import PerceptualDecisionConfig
from rnnbook.training import TrainConfig
SPEC = RunSpec(
    task="perceptual_decision",
    task_config=PerceptualDecisionConfig(stimulus_ms=200, coherences=[0.2, 0.4]),
    model_config=ModelConfig(n_rec=16, activation="tanh"),
    train_config=TrainConfig(n_steps=20, batch_size=16, eval_every=10, eval_batch_size=64),
    seed=4,
)
"""


def _python(code: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``code`` (after SPEC_CODE) in a fresh Python process."""
    source = SPEC_CODE + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", source, *args], capture_output=True, text=True, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(result.stderr[-3000:])
    return result


def _temporaries(cache):
    return sorted(p.name for p in cache.glob(".tmp-*"))


# -- a process killed while writing --------------------------------------------------------


def test_a_run_killed_while_its_weights_are_written_leaves_no_entry_and_its_folder_is_cleaned(
    tmp_path,
):
    cache = tmp_path / "cache"
    killed = _python(
        """
        import os, signal, sys
        import rnnbook.runs as runs
        def half_then_die(obj, file):
            with open(file, "wb") as handle:
                handle.write(b"PK\\x03\\x04 half a zip")
            os.kill(os.getpid(), signal.SIGKILL)
        runs.torch.save = half_then_die
        runs.fit(SPEC, cache_dir=sys.argv[1], progress=False)
        """,
        str(cache),
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    path = cache / SPEC.key()
    assert not path.exists() and not is_stored(path)
    assert len(_temporaries(cache)) == 1  # the killed writer's temporary folder
    run = fit(SPEC, cache_dir=cache, progress=False)
    assert not run.cached and is_stored(path) and _temporaries(cache) == []
    assert load_run(path).history.loss == run.history.loss


def test_a_temporary_of_a_running_process_is_kept_and_a_dead_ones_removed(tmp_path):
    mine = tmp_path / atomic.temporary_name("abc")  # this process is alive
    mine.mkdir()
    other = tmp_path / ".tmp-abcdef.123@another-host.local.0123abcd"
    other.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    gone = tmp_path / atomic.temporary_name("abc", ".json").replace(f".{os.getpid()}@", f".{dead}@")
    gone.write_text("{")
    assert atomic.remove_stale(tmp_path) == 1 and not gone.exists()
    assert mine.exists() and other.exists()  # another machine's: kept until it is a day old
    os.utime(other, (0, 0))
    assert atomic.remove_stale(tmp_path) == 1 and not other.exists() and mine.exists()


def test_a_result_killed_while_it_is_saved_leaves_the_old_file(tmp_path):
    """An analysis result (the package's other saved file) is replaced atomically."""
    _python(
        """
        import os, signal, sys
        from dataclasses import dataclass
        import torch
        from rnnbook.analysis.results import Result

        @dataclass
        class Saved(Result):
            value: int

        Saved(1).save(sys.argv[1])
        real_save = torch.save
        def half_then_die(obj, file):
            file.write(b"half")
            file.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        torch.save = half_then_die
        Saved(2).save(sys.argv[1])
        """,
        str(tmp_path / "result.pt"),
        check=False,
    )
    payload = torch.load(tmp_path / "result.pt", weights_only=True)
    assert payload["result"]["fields"]["value"] == 1
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "result.pt"]
    assert all(name.endswith(".tmp") for name in leftovers)


# -- damaged entries -------------------------------------------------------------------------


@pytest.fixture
def stored(tmp_path):
    return fit(SPEC, cache_dir=tmp_path, progress=False)


def _count_trainings(monkeypatch) -> list:
    calls = []
    real_train = runs.train

    def counting(*args, **kwargs):
        calls.append(1)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(runs, "train", counting)
    return calls


def _damage_weights_truncated(run, other):
    data = (run.path / "weights.pt").read_bytes()
    (run.path / "weights.pt").write_bytes(data[: len(data) // 2])
    return "weights.pt"


def _damage_weights_altered(run, other):
    state = torch.load(run.path / "weights.pt", weights_only=True)
    name = next(iter(state))
    state[name] = state[name] + 1e-3  # a valid file, other numbers
    torch.save(state, run.path / "weights.pt")
    return "weights.pt"


def _damage_weights_swapped(run, other):
    (run.path / "weights.pt").write_bytes((other.path / "weights.pt").read_bytes())
    return "weights.pt"


def _damage_spec_edited(run, other):
    spec = json.loads((run.path / "spec.json").read_text())
    spec["train_config"]["lr"] = 0.5
    (run.path / "spec.json").write_text(json.dumps(spec))
    return "spec.json"


def _damage_history_garbled(run, other):
    (run.path / "history.json").write_text('{"loss": [0.1, ')
    return "history.json"


def _damage_metadata_garbled(run, other):
    (run.path / "metadata.json").write_bytes(b"\x00\xff")
    return "metadata.json"


def _damage_whole_folder_swapped(run, other):
    for name in runs.RUN_FILES:
        (run.path / name).write_bytes((other.path / name).read_bytes())
    return "metadata.json"


DAMAGE = [
    _damage_weights_truncated,
    _damage_weights_altered,
    _damage_weights_swapped,
    _damage_spec_edited,
    _damage_history_garbled,
    _damage_metadata_garbled,
    _damage_whole_folder_swapped,
]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__.removeprefix("_damage_"))
def test_a_damaged_entry_is_reported_by_its_file_and_trained_again(
    damage, stored, tmp_path, monkeypatch
):
    other = fit(replace(SPEC, seed=5), cache_dir=tmp_path, progress=False)
    file = damage(stored, other)
    with pytest.raises(DamagedRunError, match=str(stored.path / file).replace(".", r"\.")):
        load_run(stored.path)
    trainings = _count_trainings(monkeypatch)
    with pytest.warns(UserWarning, match="training the run again"):
        again = fit(SPEC, cache_dir=tmp_path, progress=False)
    assert len(trainings) == 1 and not again.cached
    assert again.history.loss == stored.history.loss  # the same run, trained again
    reloaded = load_run(stored.path, spec=SPEC)
    for name, value in stored.model.state_dict().items():
        assert torch.equal(reloaded.model.state_dict()[name], value)
    assert _temporaries(tmp_path) == []


def test_an_entry_is_only_returned_for_its_own_spec(stored):
    with pytest.raises(DamagedRunError, match="not the requested spec"):
        load_run(stored.path, spec=replace(SPEC, seed=9))
    run = load_run(stored.path, spec=SPEC)
    assert run.spec == SPEC and run.cached


def test_an_intact_entry_loads_without_warnings(stored):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = fit(SPEC, cache_dir=stored.path.parent, progress=False)
    assert again.cached


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_loading_refuses_a_pickle_that_would_run_code(stored, tmp_path):
    """Even with its checksum updated to match, a weights file that would run code when
    unpickled is refused (torch.load(weights_only=True)) and names the file."""
    marker = tmp_path / "code-ran"
    with open(stored.path / "weights.pt", "wb") as handle:
        pickle.dump({"w": _RunsCode(marker)}, handle)
    metadata = json.loads((stored.path / "metadata.json").read_text())
    metadata["sha256"]["weights.pt"] = runs._sha256(stored.path / "weights.pt")
    (stored.path / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(DamagedRunError, match=r"weights\.pt"):
        load_run(stored.path)
    assert not marker.exists()


# -- two writers, two processes --------------------------------------------------------------


def test_two_processes_storing_the_same_run_at_once_leave_one_good_entry(tmp_path):
    """Both train the same spec and store it at the same moment: the loser reuses the winner's
    entry, which loads and verifies; no temporary folder is left."""
    code = """
        import sys, time
        import rnnbook.runs as runs
        real_store = runs._store
        def store_at(path, *args):
            while time.time() < float(sys.argv[2]):
                time.sleep(0.001)
            real_store(path, *args)
        runs._store = store_at
        run = runs.fit(SPEC, cache_dir=sys.argv[1], progress=False)
        print(run.path)
    """
    import time

    start_at = str(time.time() + 8.0)  # both processes have trained by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SPEC_CODE + textwrap.dedent(code), str(tmp_path), start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outputs]
    run = load_run(tmp_path / SPEC.key(), spec=SPEC)
    assert run.cached and _temporaries(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == [SPEC.key()]


def test_the_same_spec_trained_in_two_processes_is_bit_identical(tmp_path):
    code = """
        import sys
        import rnnbook.runs as runs
        runs.fit(SPEC, cache_dir=sys.argv[1], progress=False)
    """
    first, second = tmp_path / "a", tmp_path / "b"
    _python(code, str(first))
    _python(code, str(second))
    a, b = load_run(first / SPEC.key()), load_run(second / SPEC.key())
    for name, value in a.model.state_dict().items():
        assert torch.equal(b.model.state_dict()[name], value), name
    ha, hb = a.history.to_dict(), b.history.to_dict()
    ha.pop("wall_s"), hb.pop("wall_s")
    assert ha == hb
    assert np.isfinite(a.history.loss).all()


def test_a_result_file_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "code-ran"
    with open(tmp_path / "result.pt", "wb") as handle:
        pickle.dump({"format": "x", "payload": _RunsCode(marker)}, handle)
    with pytest.raises(pickle.UnpicklingError, match=r"result\.pt"):
        Result.load(tmp_path / "result.pt")
    assert not marker.exists()
