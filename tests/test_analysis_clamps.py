"""Clamps against known answers: the window of a period, the mean rates per sign of the
coherence, and the choice swing of clamped units on a hand-built network whose units 0 and 1
integrate the left and right evidence (the only units the readout sees) while units 2..5
receive input but send nothing."""

import pytest
import torch
from clamp_network import two_readout_units_network

from rnnbook.analysis import (
    Evaluation,
    SignedRates,
    clamp_swing,
    evaluate,
    random_unit_sets,
    signed_mean_rates,
)
from rnnbook.analysis.clamps import period_window
from rnnbook.models import Rollout
from rnnbook.models.interventions import Clamp
from rnnbook.seeding import Seeds
from rnnbook.tasks import PerceptualDecision, PerceptualDecisionConfig, Trials

TASK = PerceptualDecision(PerceptualDecisionConfig(coherences=(0.4,), sigma_stim=1.0))
ZERO = TASK.with_config(coherences=(0.0,))  # no evidence: the clamp alone decides


@pytest.fixture(scope="module")
def model():
    return two_readout_units_network()


@pytest.fixture(scope="module")
def values(model):
    ev = evaluate(model, TASK, 256)
    start, stop = period_window(ev.trials, "stimulus")
    return signed_mean_rates(ev, start_ms=start, stop_ms=stop, threshold=0.4)


def test_the_stimulus_window_follows_the_task_config():
    trials = TASK.sample(4, generator=torch.Generator().manual_seed(0))
    assert period_window(trials, "stimulus") == (100.0, 600.0)  # fixation 100, stimulus 500 ms
    assert period_window(trials, "decision") == (600.0, 800.0)
    varying = TASK.with_config(stimulus_ms=(200.0, 600.0))
    with pytest.raises(ValueError, match="same steps on every trial"):
        period_window(varying.sample(8, generator=torch.Generator().manual_seed(0)), "stimulus")
    with pytest.raises(ValueError, match="no period 'delay'"):
        period_window(trials, "delay")


def hand_made_evaluation() -> Evaluation:
    """Coherences +-0.4, +-0.1 and 0; unit n's rate is coherence * (n + 1) in steps 2..4 of 6
    (dt 10 ms: [20, 50) ms) and 100 elsewhere."""
    coherence = torch.tensor([0.4, 0.4, 0.1, -0.1, -0.4, 0.0])
    rates = torch.full((6, 6, 3), 100.0)
    rates[:, 2:5] = coherence[:, None, None] * torch.arange(1.0, 4.0)
    trials = Trials(
        inputs=torch.zeros(6, 6, 2),
        targets=torch.zeros(6, 6, dtype=torch.long),
        mask=torch.ones(6, 6),
        conditions={"coherence": coherence},
        dt=10.0,
    )
    return Evaluation(trials, Rollout(torch.zeros(6, 6, 2), rates, rates))


def test_signed_mean_rates_average_the_window_on_each_side():
    ev = hand_made_evaluation()
    strong = signed_mean_rates(ev, start_ms=20.0, stop_ms=50.0, threshold=0.4)
    torch.testing.assert_close(strong.positive, torch.tensor([0.4, 0.8, 1.2]))
    torch.testing.assert_close(strong.negative, torch.tensor([-0.4, -0.8, -1.2]))
    assert strong.window_ms == (20.0, 50.0) and strong.key == "coherence"
    weak = signed_mean_rates(ev, start_ms=20.0, stop_ms=50.0)  # threshold 0: all but 0.0
    torch.testing.assert_close(weak.positive, torch.tensor([0.3, 0.6, 0.9]))
    torch.testing.assert_close(weak.negative, torch.tensor([-0.25, -0.5, -0.75]))
    with pytest.raises(ValueError, match=r"\|coherence\| >= 0.5"):
        signed_mean_rates(ev, start_ms=20.0, stop_ms=50.0, threshold=0.5)
    with pytest.raises(ValueError, match="no step lies"):
        signed_mean_rates(ev, start_ms=60.0, stop_ms=90.0)


def test_a_signed_clamp_holds_the_units_at_their_rates_over_the_window():
    rates = SignedRates(torch.arange(4.0), -torch.arange(4.0), "coherence", 0.2, (100.0, 600.0))
    clamp = rates.clamp([3, 1], "negative")
    assert isinstance(clamp, Clamp) and (clamp.start_ms, clamp.stop_ms) == (100.0, 600.0)
    assert clamp.units.tolist() == [3, 1] and clamp.values.tolist() == [-3.0, -1.0]
    with pytest.raises(ValueError, match="sign = 'left'"):
        rates.clamp([0], "left")


def test_clamping_the_integrators_decides_the_choice_and_silent_units_do_nothing(model, values):
    assert values.positive[1] > values.positive[0] and values.negative[0] > values.negative[1]
    swing = clamp_swing(model, ZERO, [0, 1, 4, 5, 2, 3], [0, 2, 6], values, n_draws=6, n_trials=128)
    intact = evaluate(model, ZERO, 128).choices.float().mean()
    assert swing.intact == pytest.approx(float(intact))  # the same trials and noise
    assert swing.targeted.tolist() == [0.0, 1.0, 1.0]  # k = 0: no clamp; k = 2: units 0 and 1
    assert swing.targeted_positive[1] == 1.0 and swing.targeted_negative[1] == 0.0
    assert swing.random.shape == (3, 6) and torch.all(swing.random[0] == 0)
    assert torch.all(swing.random[2] == 1.0)  # all six units: the same set as the top six
    hits = [set(units) & {0, 1} for units in swing.draws[1].tolist()]
    assert set() in hits and {0, 1} in hits  # these draws hold both cases checked below
    for units, change in zip(swing.draws[1].tolist(), swing.random[1].tolist(), strict=True):
        if not set(units) & {0, 1}:  # only units that send nothing: exactly no swing
            assert change == 0.0
        if set(units) == {0, 1}:
            assert change == 1.0
    assert "k =   2: swing 1.000 (top k)" in swing.summary()


def test_random_clamp_sets_come_from_the_units_stream(model, values):
    swing = clamp_swing(model, ZERO, range(6), [1, 3], values, n_draws=4, n_trials=8, seed=5)
    generator = Seeds.from_seed(5).generator("units")
    for k, drawn in zip([1, 3], swing.draws, strict=True):
        assert torch.equal(drawn, random_unit_sets(6, k, 4, generator=generator))
    with pytest.raises(ValueError, match="every k <= len"):
        clamp_swing(model, ZERO, [0, 1], [3], values, n_draws=1, n_trials=8)
