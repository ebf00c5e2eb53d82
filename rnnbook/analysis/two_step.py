"""Two-step analyses: stay probabilities by reward x transition, the model-free and
model-based indices, and the logistic regression of stay on reward and transition.

A trial "stays" when the next trial's first-stage choice is the same, ``stay_t = [a_{t+1} ==
a_t]``. Binned by the trial's transition (common or rare) and reward, the four stay
probabilities ``P_cr, P_cu, P_rr, P_ru`` (common / rare, rewarded / unrewarded) separate two
strategies (Daw et al. 2011):

- model-free: rewarded choices are repeated whatever the transition: a reward main effect,
  ``mf_index = ((P_cr - P_cu) + (P_rr - P_ru)) / 2``;
- model-based: a reward after a rare transition credits the other action: the reward x
  transition interaction ``mb_interaction = (P_cr - P_cu) - (P_rr - P_ru)`` (Daw 2011's index,
  used by later commits of the source code);
- the source study's own code (Development_RNN @ e0949d4) computes the model-based index on
  rewarded trials only, ``mb_index_original = P_cr - P_rr``.

The regression (:func:`stay_regression`) fits ``logit P(stay) = b0 + b_r R + b_t C + b_i R C``
by maximum likelihood (Newton's method) with ``R = +1`` rewarded / -1 not and ``C = +1`` common /
-1 rare, so a positive ``reward`` coefficient is the model-free signature and a positive
``interaction`` the model-based one; standard errors from the inverse Hessian of the negative
log-likelihood (the observed Fisher information). The fit pools every trial of every session
(Daw 2011 fit it per subject within a mixed-effects model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.logistic import newton_logistic
from rnnbook.analysis.results import Result

Z95 = 1.959963984540054  # two-sided 95% normal quantile
EMPTY_CELL = 0.5  # the stay probability of a cell without trials (the original's default)
TERMS = ("intercept", "reward", "transition", "interaction")
_RIDGE = 1e-6  # penalty per trial on the coefficients: keeps an always-stay cell finite


@dataclass(frozen=True, eq=False)
class StayProbabilities(Result):
    """The 2 x 2 table of stay probabilities and the indices made from it.

    p_stay:            [2, 2] P(stay) by [transition (0 common, 1 rare), reward (0 no, 1 yes)];
                       ``EMPTY_CELL`` = 0.5 where a cell has no trial.
    n_trials:          [2, 2] the number of trials in each cell.
    mf_index:          ((P_cr - P_cu) + (P_rr - P_ru)) / 2, the reward main effect.
    mb_interaction:    (P_cr - P_cu) - (P_rr - P_ru), Daw 2011's model-based index.
    mb_index_original: P_cr - P_rr, the source code's model-based index (rewarded trials only).
    """

    p_stay: np.ndarray
    n_trials: np.ndarray
    mf_index: float
    mb_interaction: float
    mb_index_original: float

    def summary(self) -> str:
        (cu, cr), (ru, rr) = self.p_stay
        return (
            f"P(stay) on {int(self.n_trials.sum())} trials: common rewarded {cr:.3f}, common "
            f"unrewarded {cu:.3f}, rare rewarded {rr:.3f}, rare unrewarded {ru:.3f}; "
            f"MF index {self.mf_index:.3f}, MB interaction {self.mb_interaction:.3f} "
            f"(original MB index {self.mb_index_original:.3f})"
        )


@dataclass(frozen=True, eq=False)
class StayRegression(Result):
    """The logistic regression of stay on reward (R = +-1), transition (C = +1 common, -1 rare)
    and their interaction R C, with an intercept.

    intercept, reward, transition, interaction: the coefficients (log-odds per unit of R, C, RC).
    *_se:        their standard errors (inverse observed Fisher information).
    covariance:  [4, 4] covariance of the coefficients in the order of ``TERMS``.
    n:           the number of trials fitted.
    """

    intercept: float
    reward: float
    transition: float
    interaction: float
    intercept_se: float
    reward_se: float
    transition_se: float
    interaction_se: float
    covariance: np.ndarray
    n: int

    def z(self, term: str) -> float:
        """The coefficient of ``term`` (one of ``TERMS``) over its standard error."""
        if term not in TERMS:
            raise ValueError(f"term = {term!r} is unknown: choose one of {TERMS}")
        return getattr(self, term) / getattr(self, f"{term}_se")

    def ci(self, term: str) -> tuple[float, float]:
        """95% normal confidence interval of the coefficient of ``term``."""
        value, se = getattr(self, term), getattr(self, f"{term}_se")
        return (value - Z95 * se, value + Z95 * se)

    def summary(self) -> str:
        parts = [f"{t} {getattr(self, t):.3f} ± {getattr(self, f'{t}_se'):.3f}" for t in TERMS]
        return f"Stay regression on {self.n} trials: " + ", ".join(parts)


def stay_data(choices, rewards, transitions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stays and their trial's reward and transition, flattened over sessions.

    choices, rewards, transitions: [B, T] (or [T], one session) of 0/1 values: the first-stage
    choice, whether the trial was rewarded, and its transition (0 common, 1 rare), e.g.
    ``trials.conditions["action"]``, ``["reward"]``, ``["transition"]``; numpy or torch.
    Returns ``stay, reward, rare``, each [B (T - 1)] of 0/1 (trial t stays when choice t + 1 is
    choice t; a session's last trial has no stay).
    """
    named = {"choices": choices, "rewards": rewards, "transitions": transitions}
    arrays = {name: np.atleast_2d(as_numpy(v)) for name, v in named.items()}
    shapes = {name: a.shape for name, a in arrays.items()}
    if len(set(shapes.values())) != 1 or arrays["choices"].ndim != 2:
        raise ValueError(f"choices, rewards and transitions must all be [B, T]; got {shapes}")
    for name, a in arrays.items():
        if not np.all((a == 0) | (a == 1)):
            raise ValueError(f"{name} must be 0 or 1; got values {np.unique(a)[:5]}")
    if arrays["choices"].shape[1] < 2:
        raise ValueError("sessions of one trial have no stays: want T >= 2")
    c, r, t = arrays["choices"], arrays["rewards"], arrays["transitions"]
    stay = (c[:, 1:] == c[:, :-1]).astype(np.float64)
    return stay.ravel(), r[:, :-1].ravel(), t[:, :-1].ravel()


def stay_probabilities(choices, rewards, transitions) -> StayProbabilities:
    """The stay probabilities by transition x reward and the MF / MB indices.

    choices, rewards, transitions: [B, T] (or [T]) of 0/1, as :func:`stay_data`. The model's
    choices (argmax of its logits) with the task's rewards and transitions give the network's
    signatures, as the source's ``analyze_two_stage_signatures`` does.
    """
    stay, reward, rare = stay_data(choices, rewards, transitions)
    cell = (2 * rare + reward).astype(int)  # 0 cu, 1 cr, 2 ru, 3 rr
    counts = np.bincount(cell, minlength=4).reshape(2, 2)
    stays = np.bincount(cell, weights=stay, minlength=4).reshape(2, 2)
    p = np.where(counts > 0, stays / np.maximum(counts, 1), EMPTY_CELL)
    (cu, cr), (ru, rr) = p
    return StayProbabilities(
        p_stay=p,
        n_trials=counts,
        mf_index=float(0.5 * ((cr - cu) + (rr - ru))),
        mb_interaction=float((cr - cu) - (rr - ru)),
        mb_index_original=float(cr - rr),
    )


def stay_regression(choices, rewards, transitions) -> StayRegression:
    """Fit ``logit P(stay) = b0 + b_r R + b_t C + b_i R C`` (R = +1 rewarded, -1 not; C = +1
    common, -1 rare) by maximum likelihood.

    choices, rewards, transitions: [B, T] (or [T]) of 0/1, as :func:`stay_data`. Raises
    ValueError when a reward x transition cell has no trial (the interaction is then not
    identifiable).
    """
    stay, reward, rare = stay_data(choices, rewards, transitions)
    counts = np.bincount((2 * rare + reward).astype(int), minlength=4)
    if np.any(counts == 0):
        raise ValueError(
            "stay_regression needs trials in every transition x reward cell; got counts "
            f"(common unrewarded, common rewarded, rare unrewarded, rare rewarded) = "
            f"{tuple(int(n) for n in counts)}"
        )
    r, c = 2 * reward - 1, 1 - 2 * rare  # +-1 codes
    x = np.stack([np.ones_like(r), r, c, r * c], axis=1)  # [N, 4]
    beta, hessian = newton_logistic(x, stay, ridge=_RIDGE * len(stay))
    cov = np.linalg.inv(hessian)
    se = np.sqrt(np.diag(cov))
    values = {t: float(b) for t, b in zip(TERMS, beta, strict=True)}
    errors = {f"{t}_se": float(s) for t, s in zip(TERMS, se, strict=True)}
    return StayRegression(**values, **errors, covariance=cov, n=len(stay))
