"""Step timing: a training callback that stamps each step, and robust summaries."""

from __future__ import annotations

import statistics
import time


class StepTimer:
    """Stamps the wall clock at the end of every training step (an rnnbook callback).

    ``step_times`` are the intervals between consecutive stamps, so each is one whole step
    (sampling, forward, backward, optimiser, bookkeeping) and none includes what happens
    before the first step (set-up, the initial evaluation).
    """

    def __init__(self):
        self.stamps: list[float] = []

    def on_step_end(self, state=None) -> None:
        self.stamps.append(time.perf_counter())

    @property
    def step_times(self) -> list[float]:
        return [b - a for a, b in zip(self.stamps, self.stamps[1:], strict=False)]


def summarise(step_times: list[float], warmup: int) -> dict:
    """Median, mean, min and count of ``step_times`` after dropping the first ``warmup``."""
    kept = step_times[warmup:] or step_times
    return {
        "median_s": statistics.median(kept),
        "mean_s": statistics.fmean(kept),
        "min_s": min(kept),
        "n": len(kept),
        "warmup": len(step_times) - len(kept),
    }


def drift(step_times: list[float], k: int = 5) -> dict:
    """Median of the first ``k`` and of the last ``k`` step times, and their ratio."""
    first, last = statistics.median(step_times[:k]), statistics.median(step_times[-k:])
    return {"first_median_s": first, "last_median_s": last, "ratio": last / first}
