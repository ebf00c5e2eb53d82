"""The log-probability of the correct choice, single-unit lesion costs, saliency against those
costs and the readout's choice at given states, on hand-built networks with known answers:
units 0 and 1 integrate the left and right evidence (self-excitation 1: with relu rates, perfect
integrators of positive input) and are the only ones the readout sees; units 2..5 receive
input but send nothing anywhere."""

import math
from types import SimpleNamespace

import pytest
import torch

from rnnbook.analysis import (
    Saliency,
    choice_log_prob,
    evaluate,
    readout_choices,
    saliency,
    saliency_vs_lesions,
    unit_lesion_costs,
)
from rnnbook.models import ModelConfig, RateRNN
from rnnbook.models.interventions import Lesion
from rnnbook.tasks import (
    PerceptualDecision,
    PerceptualDecisionConfig,
    PulseIntegration,
    PulseIntegrationConfig,
)

TASK = PerceptualDecision(PerceptualDecisionConfig(coherences=(0.1, 0.4), sigma_stim=1.0))
READOUT = torch.tensor([[1.0, 0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0, 0]])  # sees units 0 and 1


def network(readout=READOUT) -> RateRNN:
    net = RateRNN(ModelConfig(n_in=2, n_out=2, n_rec=6, dt=20.0, tau=100.0), seed=0)
    return net.set_effective_weights(
        recurrent=torch.diag(torch.tensor([1.0, 1.0, 0, 0, 0, 0])),
        input=torch.tensor([[1.0, 0], [0, 1], [1, 0], [0, 1], [1, 1], [1, -1]]),
        readout=readout,
    )


@pytest.fixture(scope="module")
def model():
    return network()


def test_a_silent_readout_gives_every_choice_probability_one_half():
    silent = network(readout=torch.zeros(2, 6))
    assert choice_log_prob(silent, TASK, 64, seed=0) == pytest.approx(-math.log(2), abs=1e-6)


def test_lesioning_every_unit_the_readout_sees_leaves_chance(model):
    log_p = choice_log_prob(model, TASK, 64, seed=0, intervention=Lesion([0, 1]))
    assert log_p == pytest.approx(-math.log(2), abs=1e-6)
    assert choice_log_prob(model, TASK, 64, seed=0) > -math.log(2) + 0.2


def test_choice_log_prob_is_the_mean_log_softmax_of_the_masked_logits_of_evaluate(model):
    ev = evaluate(model, TASK, 128, seed=3)
    mask = ev.trials.mask[..., None]  # [B, T, 1]
    logits = (ev.rollout.outputs * mask).sum(1) / mask.sum(1)  # [B, n_out]
    log_p = torch.log_softmax(logits, 1).gather(1, ev.trials.conditions["choice"][:, None])
    assert choice_log_prob(model, TASK, 128, seed=3) == pytest.approx(float(log_p.mean()))


def test_unit_lesion_costs_are_the_differences_of_choice_log_probs(model):
    costs = unit_lesion_costs(model, TASK, 128, seed=1)
    assert costs.shape == (6,)
    assert torch.all(costs[2:] == 0)  # units 2..5 send nothing: lesioning them costs nothing
    assert torch.all(costs[:2] > 0.1)
    intact = choice_log_prob(model, TASK, 128, seed=1)
    for i in (0, 3):
        lesioned = choice_log_prob(model, TASK, 128, seed=1, intervention=Lesion([i]))
        assert float(costs[i]) == pytest.approx(intact - lesioned, abs=1e-6)


def test_saliency_predicts_the_lesion_costs_of_the_hand_built_network(model):
    costs = unit_lesion_costs(model, TASK, 128, seed=2)
    check = saliency_vs_lesions(saliency(model, TASK, 128, seed=2), costs, k=2)
    assert check.overlap == 2 and check.n_negative == 0
    assert check.top_k_share == pytest.approx(1.0)  # units 2..5 have score 0
    assert check.correlation > 0.99
    assert check.top_k_cost == pytest.approx(float(costs[:2].sum()))


def test_saliency_vs_lesions_on_hand_made_numbers():
    scores = torch.tensor([3.0, -1.0, 1.0, 0.0])
    ranking = Saliency(scores, torch.argsort(scores, descending=True))  # order 0, 2, 3, 1
    check = saliency_vs_lesions(ranking, torch.tensor([0.5, 2.0, 1.0, 0.0]), k=2)
    assert check.top_k_share == pytest.approx(1.0) and check.n_negative == 1
    assert check.top_k_cost == pytest.approx(1.5) and check.top_k_predicted == pytest.approx(4.0)
    assert check.overlap == 1  # the two costliest are 1 and 2; the two most salient 0 and 2
    exact = saliency_vs_lesions(ranking, scores, k=3)
    assert exact.correlation == pytest.approx(1.0) and exact.overlap == 3
    with pytest.raises(ValueError, match="costs must be"):
        saliency_vs_lesions(ranking, torch.zeros(3), k=1)


def test_readout_choices_take_the_argmax_of_the_readout_of_the_rates(model):
    states = torch.tensor(
        [[2.0, 1.0, 0, 0, 9, 9], [-1.0, 3.0, 0, 0, 0, 0], [-5.0, -1.0, 0, 0, 0, 0]]
    )
    assert readout_choices(model, states).tolist() == [0, 1, 0]  # relu: the last is a 0-0 tie
    points = SimpleNamespace(x=states.double())  # anything with x [P, N], e.g. FixedPoints
    assert readout_choices(model, points).tolist() == [0, 1, 0]
    biased = network().set_effective_weights(readout_bias=torch.tensor([0.0, 5.0]))
    assert readout_choices(biased, states).tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match=r"states \[P, 6\]"):
        readout_choices(model, torch.zeros(3, 5))


def test_a_task_without_choices_is_refused():
    pulse = PulseIntegration(PulseIntegrationConfig(dt=20.0))
    net = RateRNN(ModelConfig(n_in=1, n_out=1, n_rec=4, dt=20.0), seed=0)
    with pytest.raises(ValueError, match="PulseIntegration has no choices"):
        choice_log_prob(net, pulse, 4, seed=0)
