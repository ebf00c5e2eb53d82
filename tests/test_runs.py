"""The run cache: stored runs come back without training; a changed config gets a new run."""

import json
from dataclasses import replace

import pytest
import torch

import rnnbook.runs as runs
from rnnbook.models import ModelConfig
from rnnbook.runs import RunSpec, fit, load_run
from rnnbook.tasks import PerceptualDecisionConfig
from rnnbook.training import TrainConfig


@pytest.fixture
def spec():
    return RunSpec(
        task="perceptual_decision",
        task_config=PerceptualDecisionConfig(stimulus_ms=200, coherences=[0.1, 0.4]),
        model_config=ModelConfig(n_in=2, n_out=2, n_rec=16, dale=True),
        train_config=TrainConfig(n_steps=5, batch_size=8, eval_every=5),
        seed=2,
    )


def test_a_stored_run_is_returned_without_training(spec, tmp_path, monkeypatch):
    first = fit(spec, cache_dir=tmp_path, progress=False)
    assert not first.cached
    monkeypatch.setattr(runs, "train", lambda *a, **k: pytest.fail("trained a cached run"))
    second = fit(spec, cache_dir=tmp_path, progress=False)
    assert second.cached and second.path == first.path
    assert second.history.loss == first.history.loss
    for p, q in zip(first.model.parameters(), second.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_a_changed_config_gets_a_new_run(spec, tmp_path):
    first = fit(spec, cache_dir=tmp_path, progress=False)
    for changed in (
        replace(spec, seed=3),
        replace(spec, model_config=replace(spec.model_config, e_frac=0.75)),
        replace(spec, train_config=replace(spec.train_config, lr=2e-3)),
    ):
        assert changed.key() != spec.key()
        assert not fit(changed, cache_dir=tmp_path, progress=False).cached
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 4
    assert first.path.name == spec.key()


def test_spec_round_trips_through_json(spec, tmp_path):
    run = fit(spec, cache_dir=tmp_path, progress=False)
    data = json.loads((run.path / "spec.json").read_text())
    assert RunSpec.from_dict(data) == spec
    assert load_run(run.path).spec.key() == spec.key()


def test_no_partial_run_is_left_when_storing_fails(spec, tmp_path, monkeypatch):
    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(runs.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        fit(spec, cache_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []  # neither the run nor its temporary folder


def test_the_key_changes_with_the_training_code(spec, monkeypatch):
    key = spec.key()
    monkeypatch.setattr(runs, "code_hash", lambda: "edited")
    assert spec.key() != key


def test_unknown_task_is_refused(spec):
    with pytest.raises(ValueError, match="RunSpec.task"):
        replace(spec, task="nope")
