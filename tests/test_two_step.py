"""Two-step analyses against known answers: hand-made stay tables, the closed form of the
saturated logistic regression, and simulated model-free, model-based and random agents."""

import math

import numpy as np
import pytest
import torch

from rnnbook.analysis.two_step import (
    StayProbabilities,
    StayRegression,
    stay_data,
    stay_probabilities,
    stay_regression,
)
from rnnbook.tasks.bandit_agents import ModelBasedAgent, ModelFreeAgent, RandomAgent, run_agent
from rnnbook.tasks.two_stage import TwoStage, TwoStageConfig


def logit(p):
    return math.log(p / (1 - p))


def table_data(stays: dict, counts: dict):
    """Choices, rewards and transitions (each [1, T]) of one session whose trials have, per cell
    (transition "c" / "r", reward 1 / 0), ``counts[cell]`` trials of which ``stays[cell]`` stay."""
    rewards, transitions, stay = [], [], []
    for (kind, reward), n in counts.items():
        rewards += [reward] * n
        transitions += [int(kind == "r")] * n
        stay += [1] * stays[kind, reward] + [0] * (n - stays[kind, reward])
    choices = np.concatenate([[0], np.cumsum(1 - np.array(stay)) % 2])  # switch when not staying
    return choices[None], np.array(rewards + [0])[None], np.array(transitions + [0])[None]


COUNTS = {("c", 1): 40, ("c", 0): 50, ("r", 1): 20, ("r", 0): 25}
STAYS = {("c", 1): 30, ("c", 0): 20, ("r", 1): 8, ("r", 0): 15}
P = {cell: STAYS[cell] / COUNTS[cell] for cell in COUNTS}  # cr .75, cu .4, rr .4, ru .6


def test_stay_probabilities_and_indices_of_a_hand_made_table():
    result = stay_probabilities(*table_data(STAYS, COUNTS))
    cr, cu, rr, ru = P["c", 1], P["c", 0], P["r", 1], P["r", 0]
    assert np.allclose(result.p_stay, [[cu, cr], [ru, rr]])
    assert np.array_equal(result.n_trials, [[50, 40], [25, 20]])
    assert result.mf_index == pytest.approx(0.5 * ((cr - cu) + (rr - ru)))
    assert result.mb_interaction == pytest.approx((cr - cu) - (rr - ru))  # 0.55
    assert result.mb_index_original == pytest.approx(cr - rr)  # 0.35, rewarded trials only


def test_stays_are_the_next_choice_equal_to_this_one():
    choices = torch.tensor([[0, 0, 1, 1, 1, 0]])
    stay, reward, rare = stay_data(choices, torch.ones(1, 6), torch.zeros(1, 6))
    assert np.array_equal(stay, [1, 0, 1, 1, 0]) and len(reward) == len(rare) == 5


def test_an_empty_cell_gets_the_source_default_and_the_regression_refuses_it():
    choices, rewards, _ = table_data(STAYS, COUNTS)
    common = np.zeros_like(choices)
    assert np.all(stay_probabilities(choices, rewards, common).p_stay[1] == 0.5)
    with pytest.raises(ValueError, match="every transition x reward cell"):
        stay_regression(choices, rewards, common)


def test_the_saturated_regression_equals_its_closed_form(tmp_path):
    """With four cells and four terms the fit is exact: logit P(cell) = b0 + b_r R + b_t C +
    b_i R C with R, C = +-1, so each coefficient is a quarter of a signed sum of cell logits
    and each variance is sum(1 / (n p (1 - p))) / 16 (the design is a Hadamard matrix)."""
    fit = stay_regression(*table_data(STAYS, COUNTS))
    lcr, lcu, lrr, lru = (logit(P[cell]) for cell in [("c", 1), ("c", 0), ("r", 1), ("r", 0)])
    assert fit.intercept == pytest.approx((lcr + lcu + lrr + lru) / 4, abs=1e-4)
    assert fit.reward == pytest.approx(((lcr - lcu) + (lrr - lru)) / 4, abs=1e-4)
    assert fit.transition == pytest.approx(((lcr - lrr) + (lcu - lru)) / 4, abs=1e-4)
    assert fit.interaction == pytest.approx(((lcr - lcu) - (lrr - lru)) / 4, abs=1e-4)
    variance = sum(1 / (COUNTS[c] * P[c] * (1 - P[c])) for c in COUNTS) / 16
    for term in ("intercept", "reward", "transition", "interaction"):
        assert getattr(fit, f"{term}_se") == pytest.approx(math.sqrt(variance), rel=1e-3)
    assert fit.n == sum(COUNTS.values())
    low, high = fit.ci("interaction")
    assert low < fit.interaction < high and fit.z("interaction") > 0
    loaded = StayRegression.load(fit.save(tmp_path / "fit.pt"))
    assert loaded.interaction == fit.interaction and np.array_equal(
        loaded.covariance, fit.covariance
    )


def signatures(agent, config=None, seed=0, sessions=40):
    """The stay table and regression of ``agent`` playing ``sessions`` x 200 two-stage trials."""
    task = TwoStage(config or TwoStageConfig())
    trials = run_agent(task, agent, sessions, generator=torch.Generator().manual_seed(seed))
    data = [trials.conditions[k] for k in ("action", "reward", "transition")]
    return stay_probabilities(*data), stay_regression(*data)


CONFIGS = [TwoStageConfig(), TwoStageConfig.daw2011()]


@pytest.mark.parametrize("config", CONFIGS, ids=["code", "daw"])
def test_a_model_free_agent_repeats_rewarded_choices_whatever_the_transition(config):
    table, fit = signatures(ModelFreeAgent(alpha=0.5, beta=5.0), config)
    assert fit.reward > 0.6 and fit.z("reward") > 15
    # the interaction is ~0: a pure model-free learner gets a small positive one from the
    # correlation of its values with the drifting rewards (Akam, Costa & Dayan 2015), ~5% of
    # its reward effect here; a model-based learner's is as large as this reward effect
    assert abs(fit.interaction) < 0.15 and abs(fit.interaction) < fit.reward / 6
    (cu, cr), (ru, rr) = table.p_stay
    assert abs(cr - rr) < 0.05 and abs(cu - ru) < 0.08 and min(cr, rr) > max(cu, ru) + 0.2
    assert table.mf_index > 0.25 and abs(table.mb_interaction) < 0.1


@pytest.mark.parametrize("config", CONFIGS, ids=["code", "daw"])
def test_a_model_based_agent_switches_after_rare_rewards(config):
    agent = ModelBasedAgent(alpha=0.5, beta=5.0, common_prob=config.common_prob)
    table, fit = signatures(agent, config)
    assert fit.interaction > 0.4 and fit.z("interaction") > 12
    assert abs(fit.reward) < 0.15 and abs(fit.reward) < fit.interaction / 4
    (cu, cr), (ru, rr) = table.p_stay
    assert cr > cu + 0.15 and ru > rr + 0.15  # P_cr > P_cu and P_ru > P_rr
    assert table.mb_interaction > 0.4 and table.mb_index_original > 0.2
    assert abs(table.mf_index) < 0.05


def test_a_random_agent_stays_half_the_time_in_every_cell():
    table, fit = signatures(RandomAgent(), sessions=60)
    assert np.all(np.abs(table.p_stay - 0.5) < 0.04)
    for term in ("intercept", "reward", "transition", "interaction"):
        assert abs(fit.z(term)) < 4, term


def test_the_original_index_and_the_interaction_differ_on_unrewarded_trials():
    """The source's index ignores unrewarded trials: a learner that is model-based only after
    omissions (stays after a rare omission, switches after a common one) scores 0 on it."""
    stays = {("c", 1): 30, ("c", 0): 10, ("r", 1): 30, ("r", 0): 40}
    counts = {cell: 50 for cell in stays}
    table = stay_probabilities(*table_data(stays, counts))
    assert table.mb_index_original == pytest.approx(0.0)
    assert table.mb_interaction == pytest.approx(0.6)
    assert isinstance(table, StayProbabilities) and "MB interaction 0.600" in table.summary()


ONE = np.zeros((1, 1))  # a session of one trial


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"choices": np.array([[0, 2, 1]])}, "choices must be 0 or 1"),
        ({"rewards": np.zeros((1, 4))}, "must all be \\[B, T\\]"),
        ({"choices": ONE, "rewards": ONE, "transitions": ONE}, "T >= 2"),
    ],
)
def test_bad_data_is_refused_with_what_is_wanted(changes, message):
    data = {
        "choices": np.zeros((1, 3)),
        "rewards": np.ones((1, 3)),
        "transitions": np.zeros((1, 3)),
    }
    with pytest.raises(ValueError, match=message):
        stay_probabilities(**(data | changes))
