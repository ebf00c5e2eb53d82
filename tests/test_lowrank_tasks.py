"""The session tasks of seed 004 (reversal learning, two-stage, probabilistic reward), their
scripted agents and the reversal analyses, against known answers.

The generic ``Trials`` contract (shapes, mask, periods, seeds) of every registered task is
tests/test_task_registry.py; here are the rules of each task and the numbers they imply.
"""

import math

import numpy as np
import pytest
import torch

from rnnbook.analysis.reversals import (
    ReversalAdaptation,
    adaptation_speed,
    reversal_intervals,
)
from rnnbook.tasks import TASKS
from rnnbook.tasks.bandit_agents import ModelBasedAgent, ModelFreeAgent, run_agent
from rnnbook.tasks.probabilistic_reward import ProbabilisticReward, ProbabilisticRewardConfig
from rnnbook.tasks.reversal import (
    ReversalLearning,
    ReversalLearningConfig,
)
from rnnbook.tasks.reversal import (
    reversal_intervals as draw_intervals,
)
from rnnbook.tasks.sessions import clipped_walk, reflected_walk
from rnnbook.tasks.two_stage import TwoStage, TwoStageConfig

SESSION_TASKS = ("reversal_learning", "two_stage", "probabilistic_reward")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def binomial_close(hits: torch.Tensor, p: float, z: float = 4.0) -> bool:
    """Whether the rate of ``hits`` (0/1) is within z binomial SEs of p."""
    n = hits.numel()
    return abs(float(hits.float().mean()) - p) <= z * math.sqrt(p * (1 - p) / n)


# --- every session task ---------------------------------------------------------------


@pytest.mark.parametrize("name", SESSION_TASKS)
def test_inputs_are_the_previous_trial_and_targets_are_distributions(name):
    task = TASKS[name]()
    trials = task.sample(8, generator=gen())
    c = trials.conditions
    state = {"reversal_learning": 0.5, "two_stage": None, "probabilistic_reward": 0.0}[name]
    first = torch.tensor([0.5, 0.5 if state is None else state, 0.5])
    assert torch.equal(trials.inputs[:, 0], first.expand(8, 3))
    assert torch.equal(trials.inputs[:, 1:, 0], c["action"][:, :-1].float())
    assert torch.equal(trials.inputs[:, 1:, 2], c["reward"][:, :-1])
    seen = c["state"][:, :-1].float() if state is None else torch.full((8, 199), state)
    assert torch.equal(trials.inputs[:, 1:, 1], seen)
    assert torch.all((trials.targets >= 0) & (trials.targets <= 1))
    assert torch.allclose(trials.targets.sum(-1), torch.ones(8, 200))
    for key in ("reward_probs", "agent_probs"):
        assert torch.all((c[key] >= 0) & (c[key] <= 1)), key
    assert torch.allclose(c["agent_probs"].sum(-1), torch.ones(8, 200))


@pytest.mark.parametrize("name", SESSION_TASKS)
def test_accuracy_is_the_match_of_largest_output_and_target(name):
    task = TASKS[name]()
    trials = task.sample(4, generator=gen())
    assert float(task.accuracy(trials.targets, trials)) == 1.0
    flipped = float(task.accuracy(trials.targets.flip(-1), trials))
    ties = float((trials.targets[..., 0] == trials.targets[..., 1]).float().mean())
    assert flipped == pytest.approx(ties)  # wrong everywhere but on ties (action 0 both ways)


@pytest.mark.parametrize("name", SESSION_TASKS)
def test_closed_loop_agents_reproduce_with_the_same_seed(name):
    task = TASKS[name]()
    first, again, other = (
        run_agent(task, ModelFreeAgent(), 4, generator=gen(s)) for s in (3, 3, 4)
    )
    assert torch.equal(first.inputs, again.inputs) and torch.equal(first.targets, again.targets)
    assert not torch.equal(first.conditions["action"], other.conditions["action"])


def test_a_fixed_dataset_splits_70_15_15_and_validates_on_its_val_part():
    task = TwoStage(TwoStageConfig(n_trials=20, n_sessions=100, split="train"))
    parts = task.split_indices()
    assert [len(parts[p]) for p in ("train", "val", "test")] == [70, 15, 15]
    together = torch.cat([parts["train"], parts["val"], parts["test"]])
    assert torch.equal(together.sort().values, torch.arange(100))
    held = task.held_out()
    assert held.config.split == "val" and held.held_out() is held
    dataset = task.dataset()
    batch = task.sample(64, generator=gen(1))
    train_inputs = dataset.inputs[parts["train"]]
    for inputs in batch.inputs:  # every sampled session is a training session
        assert (train_inputs == inputs).all(-1).all(-1).any()
    assert torch.equal(held.sessions().inputs, dataset.inputs[parts["val"]])
    again = TwoStage(TwoStageConfig(n_trials=20, n_sessions=100, split="test"))
    assert torch.equal(again.dataset().inputs, dataset.inputs)  # same pool_seed, same sessions


# --- the walks of the reward probabilities -----------------------------------------------


def test_the_parallel_clipped_walk_equals_clipping_after_every_step():
    steps = 0.3 * torch.randn(5, 77, 2, generator=gen(), dtype=torch.float64)
    start = torch.rand(5, 2, generator=gen(1), dtype=torch.float64) * 0.5 + 0.25
    p, expected = start.clone(), []
    for t in range(77):
        p = (p + steps[:, t]).clamp(0.25, 0.75)
        expected.append(p)
    assert torch.allclose(clipped_walk(start, steps, 0.25, 0.75), torch.stack(expected, 1))


def test_the_folded_walk_moves_by_each_step_and_reflects_at_the_bounds():
    steps = 0.1 * torch.randn(5, 300, 2, generator=gen(), dtype=torch.float64)
    start = torch.full((5, 2), 0.5, dtype=torch.float64)
    walk = reflected_walk(start, steps, 0.25, 0.75)  # [5, 300, 2]
    before = torch.cat([start[:, None], walk[:, :-1]], 1)

    def reflect(p):
        return torch.where(p > 0.75, 1.5 - p, torch.where(p < 0.25, 0.5 - p, p))

    up, down = reflect(before + steps), reflect(before - steps)
    assert torch.all(((walk - up).abs() < 1e-12) | ((walk - down).abs() < 1e-12))
    assert walk.min() >= 0.25 and walk.max() <= 0.75
    assert torch.allclose(walk[:, 0], reflect(start + steps[:, 0]))
    # the free walk's increments are symmetric: the reflected walk is unbiased in the middle
    assert abs(float(walk.mean()) - 0.5) < 0.05


# --- reversal learning -----------------------------------------------------------------


def test_hazard_intervals_are_at_least_20_with_mean_52_and_median_42():
    intervals = draw_intervals(ReversalLearningConfig(), 200, 100, generator=gen()).double()
    assert intervals.min() == 20
    # 19 + Geometric(0.03): mean 19 + 1 / 0.03 = 52.33, SD sqrt(0.97) / 0.03 = 32.8
    assert abs(float(intervals.mean()) - (19 + 1 / 0.03)) < 4 * 32.8 / math.sqrt(20000)
    assert float(intervals.median()) in (41.0, 42.0, 43.0)
    assert ReversalLearningConfig().mean_interval == pytest.approx(52.333, abs=1e-3)


def test_consecutive_reversals_in_sessions_are_at_least_20_apart_with_mean_near_52():
    trials = ReversalLearning(ReversalLearningConfig(n_trials=1000)).sample(300, generator=gen())
    intervals = reversal_intervals(trials)
    assert len(intervals) > 4000 and intervals.min() == 20
    # within sessions the longest intervals run past the end: a small downward bias
    assert 50.0 < intervals.mean() < 53.5
    first = trials.conditions["reversal"].float().argmax(1)
    assert first.min() >= 19  # the first reversal after trial 19 (20 trials with arm 0 better)


def test_the_readme_rule_reverses_every_20_to_40_trials():
    config = ReversalLearningConfig(rule="uniform", n_trials=600)
    intervals = reversal_intervals(ReversalLearning(config).sample(100, generator=gen()))
    assert intervals.min() == 20 and intervals.max() == 40
    assert abs(intervals.mean() - 30) < 0.5 and config.mean_interval == 30


def test_reversals_take_effect_on_the_next_trial_and_rewards_are_0_8_and_0_2():
    trials = ReversalLearning().sample(200, generator=gen())
    c = trials.conditions
    better, reversal = c["better_arm"], c["reversal"]
    assert torch.equal(trials.targets.argmax(-1), better) and torch.all(better[:, 0] == 0)
    assert torch.equal(reversal[:, :-1], better[:, 1:] != better[:, :-1])
    chose_better = c["action"] == better
    assert binomial_close(c["reward"][chose_better], 0.8)
    assert binomial_close(c["reward"][~chose_better], 0.2)
    assert binomial_close(chose_better[:, 1:], 0.7)  # the scripted agent
    assert torch.all(c["agent_probs"][:, 0] == 0.5)


def test_adaptation_of_an_oracle_and_of_a_lagging_chooser():
    trials = ReversalLearning().sample(50, generator=gen())
    oracle = adaptation_speed(trials.targets, trials)
    assert oracle.n_reversals > 50 and oracle.trials_to_recover == 0
    assert oracle.pre_accuracy == oracle.post_accuracy == 1 and oracle.trials_to_adapt == 0
    assert np.array_equal(oracle.p_new_better, (oracle.lags >= 0).astype(float))
    lag = 3  # a chooser that follows the better arm three trials late
    late = torch.cat([trials.targets[:, :1].expand(-1, lag, -1), trials.targets[:, :-lag]], 1)
    source = adaptation_speed(late, trials)  # aligned at rho, as the source: blind to the lag
    fixed = adaptation_speed(late, trials, legacy=False)
    assert source.trials_to_recover == fixed.trials_to_recover == lag
    assert source.trials_to_adapt == 0 and fixed.trials_to_adapt == lag
    assert fixed.post_accuracy == pytest.approx(1 - lag / 10)


def test_a_rescorla_wagner_agent_recovers_within_a_few_trials(tmp_path):
    agent = ModelFreeAgent(alpha=0.3, beta=5.0)  # the source's baseline of reversal learning
    trials = run_agent(ReversalLearning(), agent, 30, generator=gen())
    result = adaptation_speed(trials.conditions["agent_probs"], trials, legacy=False)
    assert 1 <= result.trials_to_recover <= 8
    assert result.p_new_better[: result.window].max() < 0.3 < 0.6 < result.p_new_better[-1]
    loaded = ReversalAdaptation.load(result.save(tmp_path / "adaptation.pt"))
    assert np.array_equal(loaded.p_new_better, result.p_new_better)


# --- two-stage -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config", [TwoStageConfig(), TwoStageConfig.daw2011()], ids=["code", "daw"]
)
def test_two_stage_transitions_rewards_and_targets(config):
    trials = TwoStage(config).sample(100, generator=gen())
    c = trials.conditions
    assert binomial_close(c["transition"] == 0, config.common_prob)
    assert torch.equal(c["state"], c["action"] ^ c["transition"])
    reached = c["reward_probs"].gather(2, c["state"][..., None])[..., 0]
    assert abs(float((c["reward"] - reached).mean())) < 4 * 0.5 / math.sqrt(reached.numel())
    probs = c["reward_probs"]
    assert probs.min() >= 0.25 and probs.max() <= 0.75 and torch.all(probs[:, 0] == 0.5)
    value = config.common_prob * probs + (1 - config.common_prob) * probs.flip(-1)
    assert torch.allclose(trials.targets, value / value.sum(-1, keepdim=True))
    greedy = c["action"] == value.argmax(-1)
    assert binomial_close(greedy, 1 - config.random_prob / 2)


def test_the_code_clips_its_drift_and_daw_reflects_it():
    small = dict(n_trials=400, drift_sd=0.1)
    clipped = TwoStage(TwoStageConfig(**small)).sample(20, generator=gen())
    reflected = TwoStage(TwoStageConfig.daw2011(**small)).sample(20, generator=gen())
    p_clip, p_reflect = (t.conditions["reward_probs"] for t in (clipped, reflected))
    assert ((p_clip == 0.25) | (p_clip == 0.75)).float().mean() > 0.1  # clipping sticks
    assert ((p_reflect == 0.25) | (p_reflect == 0.75)).float().mean() < 0.01
    assert p_reflect.min() >= 0.25 and p_reflect.max() <= 0.75


# --- probabilistic reward --------------------------------------------------------------------


def test_probabilistic_reward_drifts_from_0_7_and_0_3_within_its_bounds():
    trials = ProbabilisticReward().sample(100, generator=gen())
    probs = trials.conditions["reward_probs"]
    assert torch.equal(probs[:, 0], torch.tensor([0.7, 0.3]).expand(100, 2))
    assert probs.min() >= 0.2 and probs.max() <= 0.8
    step = (probs[:, 1:] - probs[:, :-1])[(probs[:, 1:] > 0.2) & (probs[:, 1:] < 0.8)]
    assert abs(float(step.std()) - 0.02) < 0.001
    assert torch.allclose(trials.targets, probs / probs.sum(-1, keepdim=True))
    agent = torch.softmax(3.0 * probs, -1)
    assert torch.allclose(trials.conditions["agent_probs"], agent)
    assert not trials.conditions["volatile"].any()


def test_volatility_blocks_jump_to_the_mirror_image_and_drift_faster():
    config = ProbabilisticRewardConfig(volatility_blocks=True, block_trials=50, n_trials=200)
    trials = ProbabilisticReward(config).sample(200, generator=gen())
    probs, volatile = trials.conditions["reward_probs"], trials.conditions["volatile"][0]
    assert torch.equal(volatile, (torch.arange(200) // 50) % 2 == 1)
    step = probs[:, 1:] - probs[:, :-1]  # [B, T - 1, 2]
    jump = probs[:, 50] - (1.0 - probs[:, 49])  # the mirror image in [0.2, 0.8], plus a step
    assert jump.abs().max() < 5 * 0.08
    inside = (probs[:, 1:] > 0.2) & (probs[:, 1:] < 0.8)
    calm = step[:, 100:149][inside[:, 100:149]].std()
    wild = step[:, 151:199][inside[:, 151:199]].std()
    assert abs(float(calm) - 0.02) < 0.002 and abs(float(wild) - 0.08) < 0.01


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, fragments",
    [
        (
            lambda: ReversalLearningConfig(rule="sometimes"),
            ["ReversalLearningConfig.rule", "choose"],
        ),
        (
            lambda: ReversalLearningConfig(hazard=0.0),
            ["ReversalLearningConfig.hazard = 0.0", "(0.0"],
        ),
        (lambda: ReversalLearningConfig(interval_range=(40, 20)), ["interval_range = (40, 20)"]),
        (lambda: ReversalLearningConfig(split="val"), ["split = 'val'", "n_sessions = 0"]),
        (lambda: TwoStageConfig(walk="bounce"), ["TwoStageConfig.walk = 'bounce'", "'reflect'"]),
        (
            lambda: TwoStageConfig(initial_probs=(0.1, 0.5)),
            ["TwoStageConfig.initial_probs = (0.1, 0.5)", "TwoStageConfig.bounds = (0.25, 0.75)"],
        ),
        (lambda: ProbabilisticRewardConfig(volatility_blocks=1), ["volatility_blocks = 1", "bool"]),
        (lambda: ProbabilisticRewardConfig(n_trials=0), ["n_trials = 0", ">= 1"]),
        (lambda: ModelFreeAgent(alpha=2.0), ["ModelFreeAgent.alpha = 2.0", "allowed [0.0, 1.0]"]),
        (lambda: ModelBasedAgent(common_prob=-0.1), ["ModelBasedAgent.common_prob = -0.1"]),
    ],
)
def test_bad_values_are_refused_naming_field_value_and_what_is_allowed(build, fragments):
    with pytest.raises(ValueError) as error:
        build()
    for fragment in fragments:
        assert fragment in str(error.value), (fragment, str(error.value))
