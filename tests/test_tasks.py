"""Tasks' known answers: the 2AFC task's mask and evidence, the pulse task's periods, and
``Trials`` itself. Contract checks over every task are in test_task_registry.py."""

import pytest
import torch

import rnnbook as rb
from rnnbook.tasks import (
    PerceptualDecision,
    PerceptualDecisionConfig,
    PulseIntegration,
    PulseIntegrationConfig,
    Trials,
)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


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


def test_perceptual_periods_are_the_timed_periods():
    cfg = PerceptualDecisionConfig(dt=20, fixation_ms=100, stimulus_ms=500, decision_ms=200)
    periods = PerceptualDecision(cfg).sample(8, generator=generator(0)).periods
    steps = {name: period[0].nonzero().flatten().tolist() for name, period in periods.items()}
    assert steps == {
        "fixation": list(range(0, 5)),
        "stimulus": list(range(5, 30)),
        "decision": list(range(30, 40)),
    }
    assert all(torch.equal(p, p[:1].expand_as(p)) for p in periods.values())  # fixed timing


def _steps(period: torch.Tensor) -> tuple[int, int] | None:
    """(first, last) step of a [T] period that must be one run of steps, None when empty."""
    steps = period.nonzero().flatten()
    if len(steps) == 0:
        return None
    assert len(steps) == int(steps[-1] - steps[0]) + 1  # contiguous
    return int(steps[0]), int(steps[-1])


def test_pulse_periods_give_partly_covered_steps_to_the_pulse():
    task = PulseIntegration(PulseIntegrationConfig(dt=10.0))  # cost_onset_ms 4500, 700 steps
    trials = task.trials_at([100.0, 0.0], onset_ms=[2007.5, 2007.5])  # a pulse, a catch trial
    pulse = trials.periods["pulse"]
    # [2007.5, 2107.5) covers 1/4 of step 200 = [2000, 2010) and 3/4 of step 210
    assert {k: _steps(v[0]) for k, v in trials.periods.items()} == {
        "baseline": (0, 199),
        "pulse": (200, 210),
        "delay": (211, 449),
        "response": (450, 699),
    }
    assert torch.equal(pulse, trials.inputs[..., 0] > 0)
    assert trials.inputs[0, [200, 210], 0].tolist() == [0.5, 1.5]  # strength 2 times coverage
    # the catch trial: no pulse; the step holding its onset starts before it, so is baseline
    assert {k: _steps(v[1]) for k, v in trials.periods.items()} == {
        "baseline": (0, 200),
        "pulse": None,
        "delay": (201, 449),
        "response": (450, 699),
    }


def test_pulse_period_is_where_the_input_is_on_for_random_pulses():
    cfg = PulseIntegrationConfig(dt=7.0, duration_ms=(1.0, 250.0), catch_fraction=0.3)
    trials = PulseIntegration(cfg).sample(64, generator=generator(1))
    pulse = trials.periods["pulse"]
    assert torch.equal(pulse, trials.inputs[..., 0] > 0)
    catch = trials.conditions["duration"] == 0
    assert catch.any() and not pulse[catch].any() and pulse[~catch].any(1).all()
    assert torch.equal(trials.mask.bool(), trials.periods["response"])


def test_trials_keep_their_positional_fields_and_move_periods():
    inputs, mask = torch.zeros(2, 3, 1), torch.ones(2, 3)
    targets = torch.zeros(2, 3, dtype=torch.long)
    trials = Trials(inputs, targets, mask, {"choice": torch.zeros(2)}, 5.0)
    assert trials.dt == 5.0 and trials.periods == {}
    trials = Trials(inputs, targets, mask, dt=5.0, periods={"trial": mask.bool()})
    moved = trials.to("meta")
    assert moved.periods["trial"].device.type == "meta"
    assert trials.periods["trial"].device.type == "cpu"  # a copy: the original stays


def test_selected_trials_keep_their_conditions_and_periods():
    task = rb.ModCog(rb.ModCogConfig(tasks=("dm1",), loss_on="trial"))
    trials = task.sample(16, generator=torch.Generator().manual_seed(0))
    index = torch.tensor([5, 0, 9])
    picked = trials.select(index)
    assert torch.equal(picked.inputs, trials.inputs[index])
    assert torch.equal(picked.targets, trials.targets[index])
    for name, values in trials.conditions.items():
        assert torch.equal(picked.conditions[name], values[index])
    for name, values in trials.periods.items():
        assert torch.equal(picked.periods[name], values[index])
    assert picked.select(torch.tensor([True, False, True])).batch_size == 2
    with pytest.raises(ValueError, match="one trial"):
        trials.select(3)
