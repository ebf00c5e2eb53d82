"""Training stops on divergence, naming the step, and the model keeps finite parameters.

The rule (``TrainConfig.divergence_factor``, ``training.step.check_divergence``): a step whose
loss or gradient norm is not finite, or whose loss exceeds ``divergence_factor * max(first
step's loss, 1e-3)``, raises DivergenceError before the optimiser applies it. No update from a
finite gradient can overflow: the learning rate is at most ``MAX_LR``.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from rnnbook.models import ModelConfig, RateRNN
from rnnbook.runs import RunSpec
from rnnbook.tasks import (
    PerceptualDecision,
    PerceptualDecisionConfig,
    PulseIntegration,
    PulseIntegrationConfig,
)
from rnnbook.training import DivergenceError, TrainConfig, train
from rnnbook.training.config import MAX_LR
from rnnbook.training.many.stacked import fit_stacked
from rnnbook.training.step import DIVERGENCE_FLOOR, Member, check_divergence

DECISION = PerceptualDecisionConfig(stimulus_ms=200.0, coherences=(0.1, 0.4))  # T = 20
TASK = PerceptualDecision(DECISION)
TANH = ModelConfig(n_rec=32, activation="tanh")
ABSURD = TrainConfig(n_steps=30, batch_size=8, lr=1e3, eval_every=100, eval_batch_size=16)


class Snapshots:
    """A callback keeping the parameters after each step's update."""

    def __init__(self, model):
        self.model, self.after = model, [[p.detach().clone() for p in model.parameters()]]

    def on_step_end(self, state):
        self.after.append([p.detach().clone() for p in self.model.parameters()])


def _model(config=TANH, task=TASK, seed=0):
    return RateRNN(config.for_task(task), seed=seed)


def assert_kept_the_last_good_parameters(model, snapshots):
    """Finite, and those after the last step that went through (nothing of the bad step)."""
    for p, q in zip(model.parameters(), snapshots.after[-1], strict=True):
        assert torch.isfinite(p).all()
        assert torch.equal(p, q)


def test_an_exploding_loss_stops_training_before_that_step_is_applied():
    model = _model()
    snapshots = Snapshots(model)
    with pytest.raises(DivergenceError) as error:
        train(model, TASK, ABSURD, callbacks=[snapshots], progress=False)
    message = str(error.value)
    step = len(snapshots.after)  # the steps that went through, plus one: the diverging step
    assert 1 < step <= ABSURD.n_steps
    assert f"training diverged at step {step}: loss = " in message
    assert "TrainConfig.lr = 1000.0" in message and "TrainConfig.divergence_factor" in message
    assert f"parameters from step {step - 1}" in message
    assert_kept_the_last_good_parameters(model, snapshots)


def test_a_non_finite_loss_stops_training_at_its_step():
    model = _model()
    with torch.no_grad():
        model.recurrence.weight[0, 0] = math.nan
    before = [p.clone() for p in model.parameters()]
    config = replace(ABSURD, lr=1e-3, divergence_factor=None)  # non-finite stops it regardless
    with pytest.raises(DivergenceError, match=r"at step 1: loss = nan.*TrainConfig.lr = 0.001"):
        train(model, TASK, config, progress=False)
    for p, q in zip(before, model.parameters(), strict=True):
        assert torch.equal(p.nan_to_num(), q.nan_to_num())  # nothing was applied


def test_the_largest_learning_rate_leaves_finite_parameters():
    """At MAX_LR, with or without the explosion rule, every weight stays finite."""
    assert TrainConfig(lr=MAX_LR).lr == MAX_LR
    with pytest.raises(ValueError, match=r"TrainConfig.lr = 1e\+38 is out of range"):
        TrainConfig(lr=1e38)  # an Adam step of ~lr would overflow float32 weights
    for factor in (None, 1e4):
        model = _model()
        config = replace(ABSURD, lr=MAX_LR, divergence_factor=factor)
        try:
            train(model, TASK, config, progress=False)
        except DivergenceError:
            pass
        assert all(torch.isfinite(p).all() for p in model.parameters())


def test_without_a_divergence_factor_only_non_finite_values_stop_training():
    model = _model()
    history = train(model, TASK, replace(ABSURD, divergence_factor=None), progress=False)
    assert history.n_steps == ABSURD.n_steps
    assert max(history.loss) > ABSURD.divergence_factor * history.loss[0]  # it did explode
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize(
    "task, model_config, train_config",
    [
        (TASK, ModelConfig(n_rec=32), TrainConfig(n_steps=60, batch_size=16, lr=3e-3)),
        (TASK, TANH, TrainConfig(n_steps=60, batch_size=16, lr=1e-2)),
        (
            PulseIntegration(
                PulseIntegrationConfig(
                    dt=20.0,
                    trial_ms=600.0,
                    onset_ms=(100.0, 200.0),
                    duration_ms=(40.0, 100.0),
                    cost_onset_ms=400.0,
                )
            ),
            ModelConfig(n_rec=32, spectral_radius=1.5, train_recurrent=False),
            TrainConfig(n_steps=60, batch_size=16, lr=1e-2, loss="mse", grad_clip=None),
        ),
    ],
    ids=["relu-2afc", "tanh-2afc", "pulse-mse"],
)
def test_ordinary_training_never_trips_the_default_rule(task, model_config, train_config):
    assert train_config.divergence_factor == 1e4
    history = train(_model(model_config, task), task, train_config, progress=False)
    assert history.n_steps == train_config.n_steps
    assert max(history.loss) < 100 * max(history.loss[0], DIVERGENCE_FLOOR)  # far from 1e4


def test_the_rule_scales_the_first_loss_with_a_floor():
    member = Member.create(TASK, TrainConfig(divergence_factor=100.0), 0, "cpu")
    check_divergence(member, 0.5, 1.0, step=1)  # the first loss: 0.5
    check_divergence(member, 49.9, 1.0, step=2)
    with pytest.raises(DivergenceError, match=r"at step 3: loss = 50.1 exceeds"):
        check_divergence(member, 50.1, 1.0, step=3)
    with pytest.raises(DivergenceError, match=r"at step 4: gradient norm = inf"):
        check_divergence(member, 0.5, math.inf, step=4)
    tiny = Member.create(TASK, TrainConfig(divergence_factor=100.0), 0, "cpu")
    check_divergence(tiny, 1e-9, 1.0, step=1)  # a near-zero first loss: the floor 1e-3 counts
    check_divergence(tiny, 0.099, 1.0, step=2)
    with pytest.raises(DivergenceError, match="at step 3"):
        check_divergence(tiny, 0.101, 1.0, step=3)
    off = Member.create(TASK, TrainConfig(divergence_factor=None), 0, "cpu")
    check_divergence(off, 0.5, 1.0, step=1)
    check_divergence(off, 1e30, 1.0, step=2)
    with pytest.raises(DivergenceError, match=r"at step 3: loss = nan"):
        check_divergence(off, math.nan, 1.0, step=3)


@pytest.mark.parametrize("factor", [None, 1.5, 1e4, 10**6])
def test_a_divergence_factor_is_none_or_a_finite_number_above_one(factor):
    assert TrainConfig(divergence_factor=factor).divergence_factor == factor


@pytest.mark.parametrize("factor", [1.0, 0.5, -1.0, math.inf, math.nan, "1e4", True])
def test_a_bad_divergence_factor_is_refused(factor):
    with pytest.raises(ValueError, match=rf"TrainConfig.divergence_factor = {factor!r}"):
        TrainConfig(divergence_factor=factor)


def test_the_stacked_path_fails_only_the_diverging_members(tmp_path):
    good = RunSpec(
        "perceptual_decision",
        DECISION,
        ModelConfig(n_rec=16, activation="tanh"),
        TrainConfig(n_steps=20, batch_size=8, eval_every=10, eval_batch_size=16),
    )
    exploding = replace(good, seed=9, train_config=replace(good.train_config, lr=1e3))
    overflowing = replace(good, seed=5, train_config=replace(good.train_config, lr=MAX_LR))
    specs = [good, exploding, replace(good, seed=1), overflowing]
    runs, failures = fit_stacked(specs, cache_dir=tmp_path, progress=False, device="cpu")
    assert sorted(runs) == sorted([good.key(), specs[2].key()])
    assert all(run.history.n_steps == 20 for run in runs.values())
    assert all(torch.isfinite(p).all() for run in runs.values() for p in run.model.parameters())
    assert len(failures) == 2
    explosion = next(line for line in failures if line.startswith("seed 9,"))
    assert "DivergenceError: training diverged at step" in explosion
    assert "exceeds TrainConfig.divergence_factor" in explosion
    overflow = next(line for line in failures if line.startswith("seed 5,"))
    assert "DivergenceError: training diverged at step" in overflow
