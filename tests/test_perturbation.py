"""Saliency, targeted vs random lesions and lesion robustness, on a hand-built network whose
answer is known: units 0 and 1 integrate the left and right evidence and are the only ones
the readout sees; units 2..5 receive input but send nothing anywhere."""

import pytest
import torch

from rnnbook.analysis import evaluate
from rnnbook.analysis.perturbation import (
    lesion_comparison,
    lesion_robustness,
    random_unit_sets,
    saliency,
)
from rnnbook.models import ModelConfig, RateRNN
from rnnbook.models.interventions import Lesion
from rnnbook.seeding import Seeds
from rnnbook.tasks import PerceptualDecision, PerceptualDecisionConfig

TASK = PerceptualDecision(PerceptualDecisionConfig(coherences=(0.4,), sigma_stim=1.0))


@pytest.fixture(scope="module")
def model():
    net = RateRNN(ModelConfig(n_in=2, n_out=2, n_rec=6, dt=20.0, tau=100.0), seed=0)
    with torch.no_grad():
        net.recurrence.weight.zero_()
        net.input.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [1, 0], [0, 1], [1, 1], [1, -1]]))
        net.readout.weight.zero_()
        net.readout.weight[0, 0] = net.readout.weight[1, 1] = 1.0
    return net


def test_saliency_finds_the_units_the_readout_uses(model):
    result = saliency(model, TASK, 256)
    assert set(result.top(2).tolist()) == {0, 1}
    assert torch.all(result.scores[:2] > 0)
    assert torch.all(result.scores[2:] == 0)  # they send nothing: no first-order effect
    with pytest.raises(ValueError, match="k = 7 is out of range"):
        result.top(7)


def test_lesioning_the_salient_units_costs_more_than_random_ones(model):
    result = lesion_comparison(model, TASK, [0, 1], n_draws=8, n_trials=256, candidates=range(6))
    assert result.intact > 0.9
    assert result.targeted == pytest.approx(0.5, abs=0.1)  # no evidence reaches the readout
    assert result.random.shape == (8,) and result.draws.shape == (8, 2)
    # units 2..5 send nothing: a random pair costs exactly what its units among 0 and 1 cost
    for draw, accuracy in zip(result.draws.tolist(), result.random.tolist(), strict=True):
        hit = set(draw) & {0, 1}
        if not hit:
            assert accuracy == result.intact
        elif hit == {0, 1}:
            assert accuracy == result.targeted
    # a random pair never does worse than the targeted lesion; over every pair (the expected
    # random draw) the targeted lesion costs more than 0.2 of accuracy beyond a random one
    assert torch.all(result.difference >= 0)
    pairs = torch.combinations(torch.arange(6))  # [15, 2]
    every = [evaluate(model, TASK, 256, intervention=Lesion(p)).accuracy for p in pairs]
    assert sum(every) / len(every) - result.targeted > 0.2
    assert "lesioning 2 chosen units" in result.summary()


def test_random_lesion_sets_come_from_the_lesions_stream(model):
    result = lesion_comparison(model, TASK, [0, 1], n_draws=5, n_trials=16, candidates=range(6))
    expected = random_unit_sets(range(6), 2, 5, generator=Seeds.from_seed(0).generator("lesions"))
    assert torch.equal(result.draws, expected)
    assert all(len(set(row)) == 2 for row in result.draws.tolist())  # distinct units


def test_lesion_robustness_runs_from_intact_to_silent(model):
    curve = lesion_robustness(model, TASK, (0.0, 0.5, 1.0), n_draws=4, n_trials=256)
    intact = evaluate(model, TASK, 256).accuracy
    assert torch.all(curve.accuracy[0] == intact) and curve.std[0] == 0
    assert curve.mean[2] == pytest.approx(0.5, abs=0.1)  # nothing reaches the readout
    assert curve.mean[0] > curve.mean[1] > curve.mean[2] - 0.05
    with pytest.raises(ValueError, match=r"fractions contains 1.5"):
        lesion_robustness(model, TASK, (0.0, 1.5))


def test_evaluate_with_an_intervention_uses_the_same_trials(model):
    plain = evaluate(model, TASK, 64, seed=2)
    lesioned = evaluate(model, TASK, 64, seed=2, intervention=Lesion([0]))
    assert torch.equal(plain.trials.inputs, lesioned.trials.inputs)
    assert torch.all(lesioned.rollout.rates[..., 0] == 0)
    torch.testing.assert_close(plain.rollout.rates[..., 1:], lesioned.rollout.rates[..., 1:])
