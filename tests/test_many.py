"""fit_many: each member is the run fit() trains alone, stored in the cache like it."""

from dataclasses import replace

import pytest
import torch

import rnnbook.ensembles as ensembles
from rnnbook.ensembles import EnsembleError, auto_method, fit_many
from rnnbook.models import ModelConfig
from rnnbook.runs import RunSpec, fit, load_run
from rnnbook.tasks import PerceptualDecisionConfig
from rnnbook.training import CurriculumConfig, TrainConfig


@pytest.fixture
def spec():
    return RunSpec(
        task="perceptual_decision",
        task_config=PerceptualDecisionConfig(stimulus_ms=200, coherences=[0.1, 0.4]),
        model_config=ModelConfig(n_in=2, n_out=2, n_rec=12, dale=True, sigma_rec=0.05),
        train_config=TrainConfig(n_steps=16, batch_size=8, eval_every=5, eval_batch_size=16),
    )


def diverging(spec):
    """A spec whose training blows up at step 2 (an absurd learning rate)."""
    return replace(spec, seed=9, train_config=replace(spec.train_config, lr=1e30))


def assert_same_run(single, member, *, rtol=0.0, atol=0.0):
    assert member.spec == single.spec and member.history.eval_step == single.history.eval_step
    for name in ("loss", "grad_norm", "eval_loss"):
        ours, theirs = getattr(member.history, name), getattr(single.history, name)
        torch.testing.assert_close(torch.tensor(ours), torch.tensor(theirs), rtol=rtol, atol=atol)
    ours, theirs = member.history.param_grad_norm, single.history.param_grad_norm
    assert sorted(ours) == sorted(theirs) and theirs
    for name in theirs:
        torch.testing.assert_close(
            torch.tensor(ours[name]), torch.tensor(theirs[name]), rtol=max(rtol, 1e-6), atol=atol
        )
    ours, theirs = member.model.state_dict(), single.model.state_dict()
    for name in theirs:
        torch.testing.assert_close(ours[name], theirs[name], rtol=rtol, atol=atol)


def test_processes_train_each_run_exactly_as_fit_alone_and_keep_finished_ones(spec, tmp_path):
    specs = [replace(spec, seed=0), replace(spec, seed=1)]
    singles = [fit(s, cache_dir=tmp_path / "alone", progress=False) for s in specs]
    cache = tmp_path / "many"
    with pytest.raises(EnsembleError, match=r"1 of 3 runs failed[\s\S]*seed 9.*DivergenceError"):
        fit_many([*specs, diverging(spec)], cache_dir=cache, method="processes", workers=2)
    runs = fit_many(specs, cache_dir=cache, method="processes", workers=2)  # stored: loaded
    for single, run in zip(singles, runs, strict=True):
        assert run.cached
        assert run.history.loss == single.history.loss  # bit for bit, one thread each
        assert_same_run(single, run)


def test_stacked_members_equal_single_training(spec, tmp_path):
    noisy = replace(spec.model_config, sigma_in=0.02)
    specs = [
        replace(spec, seed=0),
        replace(spec, seed=1, model_config=noisy),
        replace(spec, seed=2, train_config=replace(spec.train_config, lr=3e-3, grad_clip=0.1)),
    ]
    runs = fit_many(specs, cache_dir=tmp_path / "many", method="stacked", progress=False)
    for s, run in zip(specs, runs, strict=True):
        assert not run.cached and run.path.name == s.key()
        single = fit(s, cache_dir=tmp_path / "alone", progress=False)
        assert_same_run(single, run, rtol=1e-4, atol=1e-6)
        assert_same_run(single, load_run(run.path), rtol=1e-4, atol=1e-6)


def test_stacked_members_may_differ_in_trial_length_and_time_constant(spec, tmp_path):
    fixed = replace(spec.model_config, dale=False, activation="tanh", train_recurrent=False)
    base = replace(spec, model_config=fixed)
    specs = [
        replace(base, task_config=replace(spec.task_config, stimulus_ms=(100.0, 400.0))),
        replace(base, seed=1, model_config=replace(fixed, tau=60.0, sigma_rec=0.0)),
    ]
    runs = fit_many(specs, cache_dir=tmp_path / "many", method="stacked", progress=False)
    for s, run in zip(specs, runs, strict=True):
        single = fit(s, cache_dir=tmp_path / "alone", progress=False)
        assert_same_run(single, run, rtol=1e-4, atol=1e-6)


def test_stored_members_are_loaded_and_duplicates_trained_once(spec, tmp_path, monkeypatch):
    specs = [replace(spec, seed=0), replace(spec, seed=1)]
    trained = []
    stacked = ensembles._TRAINERS["stacked"]
    monkeypatch.setitem(
        ensembles._TRAINERS, "stacked", lambda todo, *a: trained.append(todo) or stacked(todo, *a)
    )
    first = fit_many([*specs, specs[0]], cache_dir=tmp_path, method="stacked", progress=False)
    assert [len(todo) for todo in trained] == [2] and first[0] is first[2]

    def no_training(*args):
        pytest.fail("trained a stored run")

    for method in ("processes", "stacked", "serial"):
        monkeypatch.setitem(ensembles._TRAINERS, method, no_training)
    for method in ("auto", "processes", "stacked", "serial"):
        again = fit_many(specs, cache_dir=tmp_path, method=method)
        assert all(run.cached for run in again)
        assert [run.history.loss for run in again] == [run.history.loss for run in first[:2]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: replace(s, model_config=replace(s.model_config, n_rec=16)), "ModelConfig.n_rec"),
        (
            lambda s: replace(s, model_config=replace(s.model_config, dale=False)),
            "ModelConfig.dale",
        ),
        (
            lambda s: replace(s, train_config=replace(s.train_config, n_steps=3)),
            "TrainConfig.n_steps",
        ),
        (
            lambda s: replace(
                s, train_config=replace(s.train_config, curriculum=CurriculumConfig())
            ),
            "TrainConfig.curriculum",
        ),
        (
            lambda s: replace(s, model_config=replace(s.model_config, gating=True)),
            "ModelConfig.gating",
        ),
    ],
)
def test_stacked_refuses_networks_it_cannot_stack_naming_the_field(spec, tmp_path, change, field):
    with pytest.raises(ValueError, match=rf"{field}.*method='processes'"):
        fit_many([spec, change(replace(spec, seed=1))], cache_dir=tmp_path, method="stacked")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("method", ["stacked", "serial"])
def test_a_failing_member_is_reported_and_the_others_are_stored(spec, tmp_path, method):
    specs = [replace(spec, seed=0), diverging(spec), replace(spec, seed=1)]
    with pytest.raises(EnsembleError, match=r"seed 9, key \w+: DivergenceError.*at step 2") as info:
        fit_many(specs, cache_dir=tmp_path, method=method, progress=False)
    assert len(info.value.failures) == 1
    stored = fit_many([specs[0], specs[2]], cache_dir=tmp_path, method="serial")
    assert all(run.cached and run.history.n_steps == 16 for run in stored)
    assert not (tmp_path / specs[1].key()).exists()


def test_auto_picks_stacked_for_small_networks_else_processes(spec):
    big = replace(spec, model_config=replace(spec.model_config, n_rec=128))
    curriculum = replace(spec.train_config, curriculum=CurriculumConfig())
    seeds = [replace(spec, seed=s) for s in range(3)]
    assert auto_method(seeds[:1], workers=2) == "serial"
    assert auto_method(seeds, workers=2) == "stacked"
    assert auto_method([replace(s, train_config=curriculum) for s in seeds], 2) == "processes"
    if not torch.cuda.is_available():
        assert auto_method([replace(big, seed=s) for s in range(3)], workers=2) == "processes"
        assert auto_method([replace(big, seed=s) for s in range(3)], workers=1) == "serial"


def test_an_unknown_method_or_no_worker_is_refused(spec, tmp_path):
    with pytest.raises(ValueError, match="method='vmap'"):
        fit_many([spec], cache_dir=tmp_path, method="vmap")
    with pytest.raises(ValueError, match="workers=0"):
        fit_many([spec], cache_dir=tmp_path, workers=0)
