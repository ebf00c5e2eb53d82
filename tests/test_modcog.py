"""Mod-Cog (rnnbook.tasks.modcog): the 82 tasks, their extensions and the label conventions.

Known answers (spec seed000 §0.4, §0.5, §0.9 item 5): dm1 / dlygo / dms have 33 inputs, 17
actions and dt 100 ms; on the decision steps the env's ground truth is ``(i + 1) mod 16`` for
ring index ``i``; seqr targets advance one ring index per 100 ms step (seql: back one); intr /
intl shift the target by ``int(omega * delay)`` indices (DM: delay 500, 5 indices; match: the
trial's delay); dm1's decision is 200 ms (2 steps) of trials of fixation U(200, 500) (rounded
down to 200-400) + 500 + 200 ms.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.tasks import MODCOG_TASKS, TASKS, ModCog, ModCogConfig
from rnnbook.tasks.env_trials import TrialRecord
from rnnbook.tasks.modcog import BASE_TASKS, DELAY_TASKS, decision_ms, relabel, split_name

OMEGA = 0.01  # Mod-Cog's angular velocity: ring indices per ms of delay
RING = 2 * np.pi / 16


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _sample(tasks, batch=16, seed=0, **changes):
    task = ModCog(ModCogConfig(tasks=tuple(tasks), **changes))
    return task, task.sample(batch, generator=_generator(seed))


def _ring_index(theta: torch.Tensor) -> torch.Tensor:
    return torch.round(theta / RING).long() % 16


def test_the_82_tasks_are_named_as_mod_cog_names_them():
    names = list(MODCOG_TASKS)
    assert len(names) == len(set(names)) == 82
    assert names[:20] == list(BASE_TASKS) and len(DELAY_TASKS) == 11
    assert sum(n.endswith(("intr", "intl")) for n in names) == 22
    assert sum(n.endswith("seqr") for n in names) == sum(n.endswith("seql") for n in names) == 20
    for name in ["dm1", "dlygointr", "dlygointl", "goseqr", "goseql", "dmsintr", "dnmcseql"]:
        assert name in MODCOG_TASKS
    assert "dm1intr" not in MODCOG_TASKS and "gointr" not in MODCOG_TASKS  # no delay: no int
    assert split_name("ctxdlydm2intl") == ("ctxdlydm2", 0, -1)
    assert split_name("rtantiseqr") == ("rtanti", 1, 0)
    assert TASKS["modcog"] is ModCog


@pytest.mark.parametrize("name", ["dm1", "dlygo", "dms"])
def test_sizes_and_dt_of_the_envs(name):
    env = MODCOG_TASKS[name](dt=100.0)
    assert env.observation_space.shape == (33,) and env.action_space.n == 17
    assert env.unwrapped.dt == 100
    task = ModCog(ModCogConfig(tasks=(name,)))
    assert (task.n_in, task.n_out, task.n_classes, task.dt) == (33, 17, 17, 100.0)


@pytest.mark.parametrize("name", list(MODCOG_TASKS))
def test_every_task_samples_valid_trials(name):
    task, trials = _sample([name], batch=4, labels="clean")
    batch, n_steps, n_in = trials.inputs.shape
    assert (batch, n_in) == (4, 33) and trials.targets.shape == (4, n_steps)
    assert trials.targets.min() >= 0 and trials.targets.max() <= 16
    covered = torch.stack(list(trials.periods.values())).sum(0)  # [B, T]
    lengths = covered.sum(1)
    steps = torch.arange(n_steps)[None, :]
    assert torch.equal(covered, (steps < lengths[:, None]).long())  # one period each, to the end
    decision = trials.periods["decision"]
    assert torch.equal(trials.mask.bool(), decision)
    assert torch.all(decision.sum(1) == decision_ms(name) // 100)  # present, as long as the spec's
    in_trial = steps < lengths[:, None]
    assert torch.equal(decision, (trials.inputs[..., 0] < 0.5) & in_trial)
    assert torch.all(trials.targets[~decision] == 0)
    _, seq, _ = split_name(name)
    go = trials.conditions["go"].bool()
    for b in torch.nonzero(go).flatten().tolist():  # seq: one ring index a step, r: +1, l: -1
        ring = trials.targets[b][decision[b]] - 1  # clean labels: ring index + 1
        assert torch.all((ring[1:] - ring[:-1]) % 16 == seq % 16)
        assert ring[0] == trials.conditions["ground_truth"][b]
    assert torch.all(trials.conditions["ground_truth"][~go] == -1)


def test_env_ground_truth_is_ring_index_plus_one_mod_16():
    """Mod-Cog's label quirk, on the env: Y = (i + 1) mod 16 on the decision steps."""
    env = MODCOG_TASKS["dm1"](dt=100.0)
    env.seed(0)
    for _ in range(40):
        env.new_trial()
        decision = slice(env.start_ind["decision"], env.end_ind["decision"])
        evidence = (env.trial["coh1_mod1"], env.trial["coh2_mod1"])
        theta = env.trial["theta1"] if evidence[0] > evidence[1] else env.trial["theta2"]
        i = int(_ring_index(torch.tensor(theta)))
        assert np.all(env.gt[decision] == (i + 1) % 16) and np.all(env.gt[: decision.start] == 0)


def test_dm1_decision_is_two_steps_of_nine_to_twelve():
    _, trials = _sample(["dm1"], batch=64)
    decision = trials.periods["decision"].sum(1)
    lengths = torch.stack(list(trials.periods.values())).any(0).sum(1)
    assert torch.all(decision == 2)
    assert torch.all((lengths >= 9) & (lengths <= 12)) and set(lengths.tolist()) >= {9, 10, 11}
    assert torch.all(trials.periods["fixation"].sum(1) == lengths - 7)
    fraction = decision / lengths  # per trial: 2 / 9 ... 2 / 11
    assert torch.allclose(fraction, 2 / lengths.float())


@pytest.mark.parametrize("name", ["dm1seqr", "goseqr", "dmsseqr", "dlydm2seql", "antiseql"])
def test_seq_targets_move_one_ring_index_per_step(name):
    _, trials = _sample([name], batch=16)  # original labels: 1 + (i + 1) mod 16
    direction = 1 if name.endswith("r") else -1
    decision = trials.periods["decision"]
    for b in torch.nonzero(trials.conditions["go"]).flatten().tolist():
        y = trials.targets[b][decision[b]] - 1  # Mod-Cog's Y
        assert len(y) == 10  # 1000 ms of decision
        assert torch.all((y[1:] - y[:-1]) % 16 == direction % 16)
        assert y[0] == (trials.conditions["ground_truth"][b] + 1) % 16


@pytest.mark.parametrize("side", ["r", "l"])
def test_int_shifts_the_dm_target_by_omega_times_the_500_ms_delay(side):
    _, trials = _sample([f"dlydm1int{side}"], batch=32, labels="clean")
    c = trials.conditions
    stronger = torch.where(c["coh1_mod1"] > c["coh2_mod1"], c["theta1"], c["theta2"])
    sign = 1 if side == "r" else -1
    expected = (_ring_index(stronger) + sign * int(OMEGA * 500)) % 16  # 5 indices
    assert torch.equal(c["ground_truth"], expected)
    assert torch.all(trials.periods["delay"].sum(1) == 5)


@pytest.mark.parametrize("name", ["dmsintr", "dmsintl", "dnmcintr"])
def test_int_shifts_the_match_response_by_omega_times_the_trials_delay(name):
    _, trials = _sample([name], batch=48, labels="clean")
    c = trials.conditions
    delays = c["delay_ms"]
    assert torch.equal(trials.periods["delay"].sum(1), (delays / 100).long())
    assert len(set(delays.tolist())) > 3 and set(delays.tolist()) <= set(range(0, 1200, 100))
    sign = 1 if name.endswith("r") else -1
    shift = (sign * OMEGA * delays).long()  # int(omega * delay) indices, 0 to 11
    go = c["go"].bool()
    expected = (_ring_index(c["test_theta"]) + shift) % 16
    assert go.any() and torch.equal(c["ground_truth"][go], expected[go])


@pytest.mark.parametrize("side", ["r", "l"])
def test_int_reach_shows_the_stimulus_shifted_by_omega_times_the_delay_in_radians(side):
    _, trials = _sample([f"dlygoint{side}"], batch=16)
    c = trials.conditions
    sign = 1 if side == "r" else -1
    expected = torch.remainder(c["ground_truth"] * RING + sign * OMEGA * c["delay_ms"], 2 * np.pi)
    assert torch.allclose(c["stimulus_theta"], expected, atol=1e-5)
    stimulus = trials.periods["stimulus"]
    for b in range(16):  # the bump's peak is the ring unit nearest that angle
        ring = trials.inputs[b, stimulus[b]][0, 1:].reshape(2, 16)[c["modality"][b]]
        distance = torch.remainder(torch.arange(16) * RING - expected[b], 2 * np.pi)
        assert ring.argmax() == torch.minimum(distance, 2 * np.pi - distance).argmin()


def _record(gt_decision: int, go: int) -> TrialRecord:
    """A hand-made dm1-like trial: 3 fixation steps, 2 decision steps of env label Y."""
    inputs = np.zeros((5, 33), dtype=np.float32)
    inputs[:3, 0] = 1.0
    targets = np.array([0, 0, 0, gt_decision, gt_decision])
    period = np.array([0, 0, 0, 1, 1])
    return TrialRecord(inputs, targets, period, ("fixation", "decision"), {"go": go})


def test_labels_on_a_hand_checked_trial():
    ring_15 = _record(gt_decision=0, go=1)  # Y = (15 + 1) mod 16 = 0
    assert relabel(ring_15, "original").targets.tolist() == [0, 0, 0, 1, 1]
    assert relabel(ring_15, "clean").targets.tolist() == [0, 0, 0, 16, 16]
    ring_3 = _record(gt_decision=4, go=1)
    assert relabel(ring_3, "original").targets.tolist() == [0, 0, 0, 5, 5]
    assert relabel(ring_3, "clean").targets.tolist() == [0, 0, 0, 4, 4]
    assert relabel(ring_15, "clean").info["ground_truth"] == 15
    assert relabel(ring_3, "original").info["ground_truth"] == 3


@pytest.mark.parametrize("labels, ring_15_class", [("original", 1), ("clean", 16)])
def test_labels_on_dm1_trials_with_ring_index_15(labels, ring_15_class):
    _, trials = _sample(["dm1"], batch=128, labels=labels)
    decision = trials.periods["decision"]
    truth = trials.conditions["ground_truth"]
    assert (truth == 15).any()
    for b in range(128):
        expected = (
            ring_15_class if truth[b] == 15 else int(truth[b]) + (2 if labels == "original" else 1)
        )
        assert torch.all(trials.targets[b][decision[b]] == expected)


def test_the_dms_no_go_collision_under_the_original_labels():
    """A no-go decision (fixate) is class 1 under "original", as is ring index 15: the two
    collide; "clean" makes no-go 0 and ring index 15 class 16."""
    for labels, no_go_class in [("original", 1), ("clean", 0)]:
        _, trials = _sample(["dm1", "dms"], batch=256, labels=labels, mix="round_robin")
        decision = trials.periods["decision"]
        go = trials.conditions["go"].bool()
        assert (~go).any() and (trials.conditions["task"][~go] == 1).all()
        assert torch.all(trials.targets[~go][decision[~go]] == no_go_class)
        ring_15 = go & (trials.conditions["ground_truth"] == 15)
        assert ring_15.any()
        assert torch.all(
            trials.targets[ring_15][decision[ring_15]] == (1 if labels == "original" else 16)
        )


def test_mixing_tasks_in_a_batch():
    tasks = ("dm1", "dms", "goseqr")
    _, trials = _sample(tasks, batch=30, mix="round_robin")
    assert torch.bincount(trials.conditions["task"], minlength=3).tolist() == [10, 10, 10]
    assert {"task", "ground_truth", "go"} <= set(trials.conditions)
    _, trials = _sample(tasks, batch=30, mix="per_batch", seed=1)
    assert len(set(trials.conditions["task"].tolist())) == 1
    _, trials = _sample(tasks, batch=60, mix="uniform")
    assert set(trials.conditions["task"].tolist()) == {0, 1, 2}


def test_the_match_delay_is_drawn_per_env_or_per_trial():
    _, trials = _sample(["dms"], batch=32)
    per_env = trials.conditions["delay_ms"]
    assert len(set(per_env.tolist())) <= 2  # one delay per modality env, as the original
    assert torch.equal(per_env[0::2], per_env[0::2][:1].expand(16))
    _, other = _sample(["dms"], batch=32, env_seed=1)
    assert set(other.conditions["delay_ms"].tolist()) != set(per_env.tolist())
    _, trials = _sample(["dms"], batch=32, match_delay="per_trial")
    assert len(set(trials.conditions["delay_ms"].tolist())) > 3


def test_same_generator_same_trials_and_a_pool_per_task():
    config = ModCogConfig(tasks=("dm1", "dnms"), pool=20, pool_part="train")
    first = ModCog(config).sample(64, generator=_generator(0))
    again = ModCog(config).sample(64, generator=_generator(0))
    assert torch.equal(first.inputs, again.inputs) and torch.equal(first.targets, again.targets)
    assert set(first.conditions["task"].tolist()) == {0, 1}
    fresh = ModCog(ModCogConfig(tasks=("dm1", "dnms")))
    assert torch.equal(
        fresh.sample(8, generator=_generator(2)).inputs,
        fresh.sample(8, generator=_generator(2)).inputs,
    )


def test_accuracy_is_the_decision_step_accuracy():
    task, trials = _sample(["dm1", "dms"], batch=16)
    perfect = torch.nn.functional.one_hot(trials.targets, 17).float()
    assert float(task.accuracy(perfect, trials)) == 1.0
    fixating = torch.zeros_like(perfect)
    fixating[..., 0] = 1.0
    assert float(task.accuracy(fixating, trials)) == 0.0  # no decision target is 0 (original)


@pytest.mark.parametrize(
    "changes, fragments",
    [
        ({"dt": 30.0}, ["ModCogConfig.dt = 30.0", "choose one of"]),
        ({"tasks": ("dm1", "dm3")}, ["ModCogConfig.tasks = ('dm1', 'dm3')", "['dm3']"]),
        ({"tasks": ["dm1", "dm1"]}, ["ModCogConfig.tasks = ['dm1', 'dm1']", "repeated"]),
        ({"tasks": "dm1"}, ["ModCogConfig.tasks = 'dm1'", "want a list"]),
        ({"tasks": ()}, ["ModCogConfig.tasks = ()", "want a list"]),
        ({"labels": "legacy"}, ["ModCogConfig.labels = 'legacy'", "choose one of"]),
        ({"mix": "random"}, ["ModCogConfig.mix = 'random'", "choose one of"]),
        ({"env_seed": -1}, ["ModCogConfig.env_seed = -1", "must be >= 0"]),
    ],
)
def test_bad_configs_are_refused_naming_the_field(changes, fragments):
    with pytest.raises(ValueError) as error:
        ModCogConfig(**changes)
    for fragment in fragments:
        assert fragment in str(error.value), (fragment, str(error.value))


def test_a_list_of_tasks_becomes_a_tuple_and_dt_50_halves_the_seq_speed():
    config = ModCogConfig(tasks=["goseqr"], dt=50.0, labels="clean")
    assert config.tasks == ("goseqr",)
    trials = ModCog(config).sample(4, generator=_generator(0))
    decision = trials.periods["decision"]
    assert torch.all(decision.sum(1) == 20)
    ring = trials.targets[0][decision[0]] - 1
    assert torch.equal((ring - ring[0]) % 16, (torch.arange(20) // 2) % 16)  # 1 index / 100 ms


def test_a_pool_task_is_validated_on_the_held_out_part_of_its_pool():
    from rnnbook.tasks import ModCog, ModCogConfig

    task = ModCog(ModCogConfig(pool=64, pool_part="train"))
    held_out = task.held_out()
    assert held_out.config.pool_part == "val" and held_out.config.pool == 64
    train = task.sample(32, generator=torch.Generator().manual_seed(0))
    val = held_out.sample(32, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(train.inputs[:, :5], val.inputs[:, :5])
    online = ModCog(ModCogConfig())
    assert online.held_out() is online
