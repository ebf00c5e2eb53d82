"""Tasks: contract checks over the whole registry, and the 2AFC task's known answers."""

import pytest
import torch

from rnnbook.seeding import generator
from rnnbook.tasks import TASKS, PerceptualDecision, PerceptualDecisionConfig, TimedTask, make_task


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_follows_the_trials_contract(name):
    task = make_task(name)
    trials = task.sample(16, generator=generator(0))
    batch, n_steps, n_in = trials.inputs.shape
    assert (batch, n_in) == (16, task.n_in)
    assert trials.mask.shape[:2] == (batch, n_steps)
    assert trials.targets.shape[:2] == (batch, n_steps)
    assert all(v.shape[0] == batch for v in trials.conditions.values())
    assert trials.mask.sum() > 0


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_is_reproducible_from_its_generator(name):
    task = make_task(name)
    a = task.sample(8, generator=generator(5))
    b = task.sample(8, generator=generator(5))
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)


@pytest.mark.parametrize("name", [n for n, t in TASKS.items() if issubclass(t, TimedTask)])
def test_periods_tile_each_trial_without_overlap(name):
    task = make_task(name)
    masks = task.period_masks(task.durations(32, generator=generator(1)))
    total = sum(m.long() for m in masks.values())
    assert total.max() == 1  # no step in two periods


def test_mask_covers_exactly_the_decision_period():
    cfg = PerceptualDecisionConfig(dt=20, fixation_ms=100, stimulus_ms=500, decision_ms=200)
    trials = PerceptualDecision(cfg).sample(32, generator=generator(0))
    expected = torch.zeros(trials.n_steps)
    expected[30:40] = 1  # (100 + 500) / 20 = 30 up to (100 + 500 + 200) / 20 = 40
    assert trials.n_steps == 40
    assert torch.equal(trials.mask, expected.expand(32, -1))


def test_mask_follows_random_stimulus_durations():
    cfg = PerceptualDecisionConfig(dt=10, fixation_ms=100, stimulus_ms=(200, 800), decision_ms=100)
    task = PerceptualDecision(cfg)
    trials = task.sample(64, generator=generator(2))
    assert torch.all(trials.mask.sum(1) == 10)
    first = trials.mask.argmax(1)  # first decision step = fixation + stimulus steps
    assert first.min() >= 30 and first.max() <= 90 and first.unique().numel() > 5


def test_evidence_mean_and_noise_follow_the_coherence_scale():
    cfg = PerceptualDecisionConfig(dt=20, coherences=(0.3,), sigma_stim=1.5)
    trials = PerceptualDecision(cfg).sample(4000, generator=generator(3))
    stim = trials.inputs[:, 5:30]  # the stimulus period
    right = trials.conditions["choice"] == 1
    diff = stim[..., 1] - stim[..., 0]  # right minus left
    assert diff[right].mean() == pytest.approx(0.3, abs=0.01)
    assert diff[~right].mean() == pytest.approx(-0.3, abs=0.01)
    assert stim[..., 0][right].std() == pytest.approx(1.5 / 20**0.5, rel=0.02)
    assert torch.equal(trials.conditions["coherence"].sign(), right.float() * 2 - 1)


def test_fixation_input_turns_off_at_the_decision_period():
    task = PerceptualDecision(PerceptualDecisionConfig(fixation_input=True))
    trials = task.sample(4, generator=generator(0))
    assert task.n_in == 3
    assert torch.equal(trials.inputs[..., 0], 1 - trials.mask)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"coherences": (0.5, 1.5)}, "coherences"),
        ({"dt": 0}, "dt"),
        ({"sigma_stim": -1}, "sigma_stim"),
        ({"stimulus_ms": (800, 200)}, "stimulus_ms"),
    ],
)
def test_bad_task_config_names_the_field(change, field):
    with pytest.raises(ValueError, match=field):
        PerceptualDecisionConfig(**change)


def test_ideal_observer_accuracy_matches_summing_the_evidence():
    task = PerceptualDecision(PerceptualDecisionConfig(coherences=(0.1,), sigma_stim=1.5))
    trials = task.sample(20000, generator=generator(4))
    stim = trials.inputs[:, 5:30]  # the stimulus steps: fixation 100 ms, stimulus 500 ms, dt 20
    chose_right = (stim[..., 1] - stim[..., 0]).sum(1) > 0
    simulated = (chose_right.long() == trials.conditions["choice"]).float().mean()
    assert task.ideal_accuracy(0.1) == pytest.approx(float(simulated), abs=0.01)
    assert task.ideal_accuracy(0.0) == pytest.approx(0.5)
