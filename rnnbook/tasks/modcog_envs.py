"""Mod-Cog's environments on neurogym 2.3.1 (imported on first use by ``rnnbook.tasks.modcog``).

Three ``TrialEnv`` families, as Mod-Cog (Khona, Chandra et al. 2022) extends neurogym's yang19
ones, written after the spec (``shared/specs/seed000.md`` §0.4-0.5); ``modcog.py`` documents
the tasks built from them. Every env has 17 actions (0 = fixate, 1..16 = the ring's
directions) and observes a fixation input and one ring of 16 stimulus units (the reach and
match families, moved into modality 0 or 1 of 33 inputs by neurogym's
``_MultiModalityStimulus``) or two rings (the DM family, 33 inputs).

Ground truth on the decision steps follows Mod-Cog's ``my_set_groundtruth``: for a response at
ring index ``i``, step ``t`` of the decision period has action ``(i + 1 + int(seq * t * omega *
dt)) mod 16``: the action of ring index 15 wraps to 0, the fixate action (``modcog.py``'s
``labels`` say how the task relabels it). Every random draw is from the env's own ``rng``.
"""

from __future__ import annotations

import numpy as np
from neurogym.core import TrialEnv
from neurogym.envs.collections.yang19 import _gaussianbump, _MultiModalityStimulus
from neurogym.utils import spaces
from neurogym.utils.scheduler import RandomSchedule
from neurogym.wrappers.block import ScheduleEnvs

DIM_RING = 16
OMEGA = 0.01  # Mod-Cog's angular velocity ("rad/ms"): seq moves omega * dt ring indices a step
INT_DELAYS_MS = np.arange(0, 1200, 100)  # an int task's delay, drawn per trial (reach, match)
DM_INT_DELAY_MS = 500  # the DM family's int tasks keep this delay (as Mod-Cog does)


def ring_angles() -> np.ndarray:
    """[16] the ring's preferred angles 2 pi k / 16."""
    return np.linspace(0, 2 * np.pi, DIM_RING + 1)[:-1]


def shifted_index(index: int, integrate: int, delay_ms: float) -> int:
    """Mod-Cog's int shift of a ring index: ``int((index + integrate * omega * delay) mod 16)``
    (``integrate`` = +1 for r, -1 for l)."""
    return int(np.mod(index + integrate * OMEGA * delay_ms, DIM_RING))


class _RingEnv(TrialEnv):
    """Shared by the families: 17 actions, and the decision ground truth with seq."""

    def __init__(self, dt: float, seq: int, obs_names: dict, n_obs: int):
        super().__init__(dt=dt)
        self.seq = seq
        self.rewards = {"abort": -0.1, "correct": 1.0, "fail": 0.0}
        self.abort = False
        self.dim_ring = DIM_RING
        self.theta = ring_angles()
        self.observation_space = spaces.Box(
            -np.inf, np.inf, shape=(n_obs,), dtype=np.float32, name=obs_names
        )
        names = {"fixation": 0, "choice": range(1, DIM_RING + 1)}
        self.action_space = spaces.Discrete(1 + DIM_RING, name=names)

    def set_decision_target(self, index: int) -> None:
        """gt on step t of the decision: action ``(index + 1 + int(seq t omega dt)) mod 16``."""
        if not self._gt_built:
            self._init_gt()
        start, end = self.start_ind["decision"], self.end_ind["decision"]
        action = index + 1  # the action of ring index i (neurogym's "choice" names)
        for t in range(end - start):
            self.gt[start + t] = np.mod(action + int(self.seq * t * OMEGA * self.dt), DIM_RING)

    def _step(self, action):
        """yang19's rewards: -0.1 for breaking fixation, 1 for the correct action in the
        decision (which ends the trial), 0 for another one."""
        gt, new_trial, reward = self.gt_now, False, 0.0
        if self.in_period("fixation"):
            if action != 0:
                new_trial, reward = self.abort, self.rewards["abort"]
        elif self.in_period("decision") and action != 0:
            new_trial = True
            if action == gt:
                reward, self.performance = self.rewards["correct"], 1
            else:
                reward = self.rewards["fail"]
        return self.ob_now, reward, False, False, {"new_trial": new_trial, "gt": gt}


class Reach(_RingEnv):
    """Go / anti / reaction-time reach (one ring). A bump (``0.8 exp(-d^2/2)``, d in units of
    pi/8) at the target's angle (+ pi for anti; + ``integrate * omega * delay`` rad for int);
    respond at the target ring index. Timing: fixation 500, stimulus 500, delay 500, decision
    ``decision_ms``; the reaction-time tasks have fixation and decision only, with the stimulus
    shown during the decision. int: the delay is drawn per trial from ``INT_DELAYS_MS``."""

    def __init__(
        self, dt=100, anti=False, reaction=False, integrate=0, seq=0, decision_ms=500, modality=0
    ):
        super().__init__(dt, seq, {"fixation": 0, "stimulus": range(1, DIM_RING + 1)}, 1 + DIM_RING)
        self.anti, self.reaction, self.integrate = anti, reaction, integrate
        self.modality = modality
        self.timing = {"fixation": 500, "stimulus": 500, "delay": 500, "decision": decision_ms}

    def _new_trial(self, **kwargs):
        trial = {"ground_truth": self.rng.choice(DIM_RING), "anti": self.anti}
        trial.update(kwargs)
        if self.integrate:
            self.timing["delay"] = int(self.rng.choice(INT_DELAYS_MS))
        delay = self.timing["delay"]
        target = int(trial["ground_truth"])
        angle = self.theta[target] + self.integrate * OMEGA * delay + int(trial["anti"]) * np.pi
        stimulus = _gaussianbump(np.mod(angle, 2 * np.pi), self.theta, 1)
        if self.reaction:
            self.add_period(["fixation", "decision"])
            self.add_ob(1, period="fixation", where="fixation")
            self.add_ob(stimulus, "decision", where="stimulus")
        else:
            self.add_period(["fixation", "stimulus", "delay", "decision"])
            self.add_ob(1, period=["fixation", "stimulus", "delay"], where="fixation")
            self.add_ob(stimulus, "stimulus", where="stimulus")
            trial["delay_ms"] = float(self.start_t["decision"] - self.start_t["delay"])
        self.set_decision_target(target)
        trial.update(stimulus_theta=float(np.mod(angle, 2 * np.pi)), go=1, seq=self.seq)
        trial.update(integrate=self.integrate, modality=self.modality)
        return trial


class DecisionMaking(_RingEnv):
    """Two-bump decisions (two rings, 33 inputs). Bumps at two different ring indices with
    strengths from ``cohs``; ``stim_mod`` says which modality rings show them, ``w_mod`` how
    each modality weighs in the comparison; respond at the stronger one. Without
    ``delaycomparison``: both bumps at once (strengths 0.5 +- coh / 2), fixation U(200, 500),
    stimulus 500, decision ``decision_ms``. With it: one bump after the other around a 500 ms
    delay (stim1, delay, stim2; strengths two different ``cohs``). Input noise ``sigma /
    sqrt(dt)`` on every input (the fixation input too, as Mod-Cog adds it) during the
    stimuli. int: the delay stays 500 ms and the target index shifts by ``shifted_index``."""

    def __init__(
        self,
        dt=100,
        cohs=(0.08, 0.16, 0.32, 0.64),
        w_mod=(1, 1),
        stim_mod=(True, True),
        delaycomparison=False,
        integrate=0,
        seq=0,
        decision_ms=200,
        sigma=1.0,
    ):
        names = {
            "fixation": 0,
            "stimulus_mod1": range(1, DIM_RING + 1),
            "stimulus_mod2": range(DIM_RING + 1, 2 * DIM_RING + 1),
        }
        super().__init__(dt, seq, names, 1 + 2 * DIM_RING)
        self.cohs = np.array(cohs)
        self.w_mod, self.stim_mod = w_mod, stim_mod
        self.delaycomparison, self.integrate = delaycomparison, integrate
        self.sigma = sigma / np.sqrt(self.dt)
        fixation = ("uniform", (200, 500))
        if delaycomparison:
            self.timing = {
                "fixation": fixation,
                "stim1": 500,
                "delay": DM_INT_DELAY_MS,
                "stim2": 500,
                "decision": decision_ms,
            }
        else:
            self.timing = {"fixation": fixation, "stimulus": 500, "decision": decision_ms}

    def _add_modality(self, trial: dict, mod: int) -> None:
        """The two bumps in modality ``mod`` (1 or 2); their strengths into ``trial``."""
        if self.delaycomparison:
            first, second = "stim1", "stim2"
            coh1, coh2 = self.rng.choice(self.cohs, 2, replace=False)
        else:
            first = second = "stimulus"
            coh = self.rng.choice(self.cohs) * self.rng.choice([-1, +1])
            coh1, coh2 = 0.5 + coh / 2, 0.5 - coh / 2
        trial[f"coh1_mod{mod}"], trial[f"coh2_mod{mod}"] = float(coh1), float(coh2)
        where = f"stimulus_mod{mod}"
        self.add_ob(_gaussianbump(trial["theta1"], self.theta, coh1), first, where=where)
        self.add_ob(_gaussianbump(trial["theta2"], self.theta, coh2), second, where=where)

    def _new_trial(self, **kwargs):
        i_theta1 = int(self.rng.choice(DIM_RING))
        i_theta2 = i_theta1
        while i_theta2 == i_theta1:
            i_theta2 = int(self.rng.choice(DIM_RING))
        trial = {"theta1": float(self.theta[i_theta1]), "theta2": float(self.theta[i_theta2])}
        trial.update(kwargs)
        if self.delaycomparison:
            stimuli = ["stim1", "stim2"]
            self.add_period(["fixation", "stim1", "delay", "stim2", "decision"])
        else:
            stimuli = ["stimulus"]
            self.add_period(["fixation", "stimulus", "decision"])
        self.add_ob(1, where="fixation")
        self.set_ob(0, "decision")
        self.add_randn(0, self.sigma, stimuli)  # every input, the fixation one too
        evidence1 = evidence2 = 0.0
        for mod, (shown, weight) in enumerate(zip(self.stim_mod, self.w_mod, strict=True), 1):
            if shown:
                self._add_modality(trial, mod)
                evidence1 += weight * trial[f"coh1_mod{mod}"]
                evidence2 += weight * trial[f"coh2_mod{mod}"]
        target = i_theta1 if evidence1 + self.rng.uniform(-1e-6, 1e-6) > evidence2 else i_theta2
        if self.integrate:
            target = shifted_index(target, self.integrate, self.timing["delay"])
        self.set_decision_target(target)
        trial.update(go=1, seq=self.seq, integrate=self.integrate)
        return trial


class DelayMatch(_RingEnv):
    """Delayed match-to-sample / -category (one ring). A sample bump, a delay, a test bump
    (match: the sample's index, or an index of its category; non-match: 180 degrees away, or
    an index of the other category), then the decision: respond at the test's index on "go"
    trials (match with ``matchgo``, non-match without), fixate otherwise (gt 0 throughout).
    Timing: fixation 300, sample 500, delay ``delay_ms`` (a number, fixed for the env as
    Mod-Cog draws it once per env; None: U(200, 1200) per trial), test 500, decision
    ``decision_ms``. Input noise ``sigma / sqrt(dt)`` on the stimulus units during sample and
    test. int: the delay is drawn per trial from ``INT_DELAYS_MS`` and the response index
    shifts by ``shifted_index``."""

    def __init__(
        self,
        dt=100,
        matchto="sample",
        matchgo=True,
        integrate=0,
        seq=0,
        decision_ms=900,
        delay_ms=None,
        sigma=1.0,
        modality=0,
    ):
        super().__init__(dt, seq, {"fixation": 0, "stimulus": range(1, DIM_RING + 1)}, 1 + DIM_RING)
        self.matchto, self.matchgo, self.integrate = matchto, matchgo, integrate
        self.modality = modality
        self.half_ring = DIM_RING // 2
        self.sigma = sigma / np.sqrt(self.dt)
        delay = ("uniform", (200, 1200)) if delay_ms is None else delay_ms
        self.timing = {
            "fixation": 300,
            "sample": 500,
            "delay": 500 if integrate else delay,
            "test": 500,
            "decision": decision_ms,
        }

    def _new_trial(self, **kwargs):
        trial = {"ground_truth": self.rng.choice(["match", "non-match"])}
        trial.update(kwargs)
        if self.integrate:
            self.timing["delay"] = int(self.rng.choice(INT_DELAYS_MS))
        match = trial["ground_truth"] == "match"
        i_sample = int(self.rng.choice(DIM_RING))
        if self.matchto == "category":
            sample_category = int(i_sample > self.half_ring)  # index 8 is in category 0
            test_category = sample_category if match else 1 - sample_category
            i_test = int(self.rng.choice(self.half_ring)) + test_category * self.half_ring
        else:
            i_test = i_sample if match else (i_sample + self.half_ring) % DIM_RING
        trial["sample_theta"] = float(self.theta[i_sample])
        trial["test_theta"] = float(self.theta[i_test])
        self.add_period(["fixation", "sample", "delay", "test", "decision"])
        self.add_ob(1, where="fixation")
        self.set_ob(0, "decision", where="fixation")
        self.add_ob(_gaussianbump(self.theta[i_sample], self.theta, 1), "sample", where="stimulus")
        self.add_ob(_gaussianbump(self.theta[i_test], self.theta, 1), "test", where="stimulus")
        self.add_randn(0, self.sigma, ["sample", "test"], where="stimulus")
        delay = float(self.start_t["test"] - self.start_t["delay"])
        if self.integrate:
            i_test = shifted_index(i_test, self.integrate, self.timing["delay"])
        go = match == self.matchgo
        if go:
            self.set_decision_target(i_test)
        else:
            self.set_groundtruth(0)
        trial.update(match=int(match), go=int(go), delay_ms=delay, seq=self.seq)
        trial.update(integrate=self.integrate, modality=self.modality)
        return trial


def two_modalities(make) -> ScheduleEnvs:
    """Mod-Cog's (and yang19's) schedule over modality 0 and 1: ``make(modality)`` builds each
    one-ring env, ``_MultiModalityStimulus`` moves its ring into that modality of 33 inputs;
    neurogym's ``RandomSchedule`` over two envs alternates between them, trial by trial."""
    envs = [_MultiModalityStimulus(make(m), modality=m, n_modality=2) for m in (0, 1)]
    return ScheduleEnvs(envs, RandomSchedule(len(envs)), env_input=False)
