"""Adaptation around reversals: how fast a network or an agent follows a reversed contingency.

A reversal recorded on trial rho (``trials.conditions["reversal"]``) takes effect from trial
rho + 1, the first trial of the new contingency (the reversal task's rule). Around each
reversal with ``window`` trials on both sides inside the session:

- the **reversal curve**: the mean probability of choosing the arm that is better after the
  reversal, at lags ``-window .. window - 1`` from trial rho + 1 (lag 0 is the first trial of
  the new contingency); ``trials_to_recover`` is the first lag >= 0 at which it reaches
  ``criterion`` (0.5: the new arm is preferred), NaN when it never does in the window;
- the source's own metrics (``measure_adaptation_speed``, window 10): ``pre_accuracy`` and
  ``post_accuracy``, the fraction of trials in the ``window`` trials before and from the
  reversal whose most probable choice is the target's, and ``trials_to_adapt``, the index of
  the first correct trial from the reversal (``window`` when none). The source aligns these
  at rho itself (``legacy=True``), whose target still names the old arm, so a network that
  keeps the old arm for a while scores ``trials_to_adapt = 0``; ``legacy=False`` aligns them
  at rho + 1.

Reversals are used when trials rho - window .. rho + window all lie in the session (the source
asks for rho - window .. rho + window - 1: it uses one more reversal at the very end).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.results import Result


@dataclass(frozen=True, eq=False)
class ReversalAdaptation(Result):
    """Choices aligned to reversals (see the module docstring).

    lags:              [2 window] trials from the first trial of the new contingency (rho + 1).
    p_new_better:      [2 window] mean probability of choosing the arm better after the reversal.
    p_new_better_sem:  [2 window] its standard error over reversals.
    trials_to_recover: first lag >= 0 where ``p_new_better >= criterion`` (NaN if none).
    pre_accuracy, post_accuracy, trials_to_adapt: the source's metrics, averaged over reversals.
    n_reversals:       the number of reversals used; window, criterion, legacy: as asked.
    """

    lags: np.ndarray
    p_new_better: np.ndarray
    p_new_better_sem: np.ndarray
    trials_to_recover: float
    pre_accuracy: float
    post_accuracy: float
    trials_to_adapt: float
    n_reversals: int
    window: int
    criterion: float
    legacy: bool

    def summary(self) -> str:
        alignment = "at the reversal trial (source)" if self.legacy else "at its first new trial"
        return (
            f"{self.n_reversals} reversals: recovers (P(new better) >= {self.criterion:g}) after "
            f"{self.trials_to_recover:g} trials; source metrics {alignment}: pre "
            f"{self.pre_accuracy:.3f}, post {self.post_accuracy:.3f}, trials to adapt "
            f"{self.trials_to_adapt:.2f}"
        )


def reversal_points(trials) -> list[tuple[int, int]]:
    """(session, rho) of every reversal in ``trials.conditions["reversal"]`` ([B, T] bool)."""
    if "reversal" not in trials.conditions:
        raise ValueError(
            f"no condition 'reversal' in these trials: have {sorted(trials.conditions)} "
            "(want trials of the reversal-learning task)"
        )
    flags = as_numpy(trials.conditions["reversal"]).astype(bool)
    return [(int(b), int(t)) for b, t in zip(*np.nonzero(flags), strict=True)]


def reversal_intervals(trials) -> np.ndarray:
    """[K] the trials between consecutive reversals within each session of ``trials``."""
    points = reversal_points(trials)
    return np.array(
        [t1 - t0 for (b0, t0), (b1, t1) in zip(points, points[1:], strict=False) if b0 == b1],
        dtype=np.int64,
    )


def adaptation_speed(
    probs, trials, *, window: int = 10, legacy: bool = True, criterion: float = 0.5
) -> ReversalAdaptation:
    """Choice probabilities aligned to the reversals of ``trials``.

    probs:  [B, T, 2] the probability of each choice on each trial (the softmax of a model's
            logits, an agent's ``conditions["agent_probs"]``, or one-hot choices); numpy or
            torch. Ties in the most probable choice go to choice 0.
    trials: the reversal-learning Trials they answer (targets [B, T, 2] one-hot of the better
            arm; ``conditions["reversal"]`` [B, T]).
    window: trials on each side of a reversal; legacy: align the source's metrics at rho
            (True, as the source) or at rho + 1.
    Raises ValueError when no reversal has ``window`` trials on both sides.
    """
    _check_options(window, criterion)
    p, better = as_numpy(probs), as_numpy(trials.targets).argmax(-1)  # [B, T, 2], [B, T]
    if p.ndim != 3 or p.shape[:2] != better.shape or p.shape[2] != 2:
        raise ValueError(f"probs must be [B, T, 2] = {(*better.shape, 2)}; got {p.shape}")
    n_trials = better.shape[1]
    used = [
        (b, r) for b, r in reversal_points(trials) if r >= window and r + 1 + window <= n_trials
    ]
    if not used:
        raise ValueError(f"no reversal has {window} trials on both sides in these sessions")
    b, rho = np.array(used).T[:, :, None]  # each [R, 1]
    lags = np.arange(-window, window)
    new = better[b, rho + 1]  # [R, 1] the arm better after the reversal
    curves = p[b, rho + 1 + lags, new]  # [R, 2 window]
    curve = curves.mean(0)
    onset = rho if legacy else rho + 1
    correct = (p.argmax(-1) == better)[b, onset + lags]  # [R, 2 window]
    before, after = correct[:, :window], correct[:, window:]
    first = np.where(after.any(1), after.argmax(1), window)  # the first correct trial
    reached = np.nonzero(curve[window:] >= criterion)[0]
    sem = curves.std(0, ddof=1) / np.sqrt(len(used)) if len(used) > 1 else np.zeros_like(curve)
    return ReversalAdaptation(
        lags=lags,
        p_new_better=curve,
        p_new_better_sem=sem,
        trials_to_recover=float(reached[0]) if len(reached) else float("nan"),
        pre_accuracy=float(before.mean()),
        post_accuracy=float(after.mean()),
        trials_to_adapt=float(first.mean()),
        n_reversals=len(used),
        window=window,
        criterion=criterion,
        legacy=legacy,
    )


def _check_options(window, criterion) -> None:
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window = {window!r} is not allowed: want an integer >= 1 (trials)")
    if not 0 <= criterion <= 1:
        raise ValueError(f"criterion = {criterion!r} is out of range: allowed [0, 1]")
