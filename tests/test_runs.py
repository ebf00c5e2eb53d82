"""The run cache: stored runs come back without training; a changed config gets a new run."""

import json
from dataclasses import replace

import pytest
import torch

import rnnbook.runs as runs
from rnnbook.models import ModelConfig, RateRNN
from rnnbook.runs import RUN_FILES, RunSpec, fit, is_stored, load_run, store_run
from rnnbook.tasks import PerceptualDecisionConfig
from rnnbook.training import CurriculumConfig, Penalty, TrainConfig


@pytest.fixture
def spec():
    return RunSpec(
        task="perceptual_decision",
        task_config=PerceptualDecisionConfig(stimulus_ms=200, coherences=[0.1, 0.4]),
        model_config=ModelConfig(
            n_rec=16,
            recurrence="dale",
            input_weights="nonnegative",
            readout_weights="nonnegative",
        ),
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


@pytest.mark.parametrize(
    ("model", "train"),
    [
        ({"tau": (20.0, 200.0)}, {}),
        ({"tau": None, "leak": 0.3, "activation": "softplus", "softplus_beta": 2.0}, {}),
        ({"recurrence": "low_rank", "rank": 2, "gate": "multiplicative"}, {}),
        ({}, {"penalties": (Penalty("contrastive_margin", 0.1, margin=3.0),)}),
        ({}, {"curriculum": CurriculumConfig(), "target_accuracy": 0.9}),
    ],
)
def test_every_kind_of_config_round_trips_through_json_with_its_key(spec, model, train):
    changed = replace(
        spec,
        model_config=ModelConfig(n_rec=16, **model),
        train_config=replace(spec.train_config, **train),
    )
    again = RunSpec.from_dict(json.loads(json.dumps(changed.to_dict())))
    assert again == changed and again.key() == changed.key() != spec.key()


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


def test_a_stored_run_is_a_folder_of_every_run_file(spec, tmp_path):
    run = fit(spec, cache_dir=tmp_path, progress=False)
    assert sorted(p.name for p in run.path.iterdir()) == sorted(RUN_FILES)
    assert is_stored(run.path) and not is_stored(tmp_path / "elsewhere")
    for name in RUN_FILES:
        (run.path / name).rename(tmp_path / name)
        assert not is_stored(run.path)
        (tmp_path / name).rename(run.path / name)
    assert is_stored(run.path)


def test_an_incomplete_run_folder_is_trained_again_and_stored(spec, tmp_path):
    run = fit(spec, cache_dir=tmp_path, progress=False)
    (run.path / "history.json").unlink()
    again = fit(spec, cache_dir=tmp_path, progress=False)
    assert not again.cached and again.history.loss == run.history.loss
    assert is_stored(run.path)


def test_store_run_writes_a_run_that_loads_back_with_extra_metadata(spec, tmp_path):
    model = runs.build_model(spec)
    history = fit(spec, cache_dir=tmp_path / "fit", progress=False).history
    stored = store_run(tmp_path, spec, model, history, wall_time=1.25, trained_by="a test")
    assert not stored.cached and stored.path == tmp_path / spec.key() and is_stored(stored.path)
    loaded = load_run(stored.path)
    assert loaded.cached and loaded.spec == spec and loaded.history.loss == history.loss
    assert loaded.metadata["trained_by"] == "a test" and loaded.metadata["wall_time_s"] == 1.25
    assert loaded.metadata["key"] == spec.key()
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], value)


def test_a_spec_takes_n_in_n_out_and_dt_from_its_task(spec):
    resolved = spec.resolved_model_config
    assert (resolved.n_in, resolved.n_out, resolved.dt) == (2, 2, 20.0)
    assert spec.model_config.dt is None  # the spec keeps the config as given
    cue = PerceptualDecisionConfig(dt=10.0, fixation_input=True)
    other = RunSpec("perceptual_decision", cue, ModelConfig(n_rec=16), spec.train_config)
    assert (other.resolved_model_config.n_in, other.resolved_model_config.dt) == (3, 10.0)
    assert other.resolved_model_config.alpha == 10.0 / 100.0
    model = runs.build_model(other)
    assert isinstance(model, RateRNN) and model.config.dt == 10.0 and model.config.n_in == 3


def test_changing_the_tasks_dt_needs_no_second_edit(spec):
    finer = replace(spec, task_config=replace(spec.task_config, dt=10.0))
    assert finer.resolved_model_config.dt == 10.0
    assert runs.build_model(finer).alpha == pytest.approx(10.0 / spec.model_config.tau)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dt", 10.0, r"ModelConfig\.dt = 10\.0 disagrees with the task's dt = 20\.0"),
        ("n_in", 3, r"ModelConfig\.n_in = 3 disagrees with the task's n_in = 2"),
        ("n_out", 4, r"ModelConfig\.n_out = 4 disagrees with the task's n_out = 2"),
    ],
)
def test_a_model_config_that_disagrees_with_its_task_is_refused_naming_both(
    spec, field, value, message
):
    with pytest.raises(ValueError, match=message):
        replace(spec, model_config=replace(ModelConfig(n_rec=16), **{field: value}))


def test_a_value_equal_to_the_tasks_gives_the_same_run_and_key(spec):
    given = ModelConfig(n_in=2, n_out=2, dt=20.0, n_rec=16)
    left = ModelConfig(n_rec=16)
    explicit, implicit = replace(spec, model_config=given), replace(spec, model_config=left)
    assert explicit.resolved_model_config == implicit.resolved_model_config
    assert explicit.key() == implicit.key()
    finer = replace(spec, task_config=PerceptualDecisionConfig(dt=10.0), model_config=left)
    assert finer.key() != replace(spec, model_config=left).key()
