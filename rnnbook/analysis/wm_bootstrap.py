"""Bootstrap intervals of a fit: refit on resamples of the trials, drawn with replacement.

Percentile intervals of every number in ``fit(...).parameters()`` (the mixture fits of
:mod:`rnnbook.analysis.mixtures`); the resamples come from a ``torch.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.analysis.circular import check_array
from rnnbook.analysis.results import Result


@dataclass(frozen=True, eq=False)
class BootstrapIntervals(Result):
    """Percentile bootstrap of a fit's parameters.

    names: the P parameter names; estimates: [P] on the data; samples: [R, P] on R resamples
    of the trials (with replacement); level: the coverage of ``low`` and ``high``.
    """

    names: tuple[str, ...]
    estimates: np.ndarray
    samples: np.ndarray
    level: float

    @property
    def low(self) -> np.ndarray:
        """[P] the (1 - level) / 2 quantile of each parameter over resamples."""
        return np.quantile(self.samples, (1 - self.level) / 2, axis=0)

    @property
    def high(self) -> np.ndarray:
        """[P] the (1 + level) / 2 quantile of each parameter over resamples."""
        return np.quantile(self.samples, (1 + self.level) / 2, axis=0)

    @property
    def se(self) -> np.ndarray:
        """[P] the standard deviation over resamples (ddof 1)."""
        return self.samples.std(axis=0, ddof=1)

    def interval(self, name: str) -> tuple[float, float]:
        """(low, high) of the parameter called ``name``."""
        if name not in self.names:
            raise ValueError(f"name = {name!r} is not allowed: choose one of {self.names}")
        i = self.names.index(name)
        return float(self.low[i]), float(self.high[i])


def bootstrap_fit(
    fit, *data, n_resamples: int = 200, generator: torch.Generator, level: float = 0.95
) -> BootstrapIntervals:
    """Refit ``fit(*data)`` (e.g. ``fit_swap_model``) on ``n_resamples`` resamples of the
    trials, for percentile intervals at ``level`` (in (0, 1)).

    data: arrays with the trials on axis 0 ([n] or [n, m]), resampled together with
    replacement; ``generator`` draws the resamples. The parameters are
    ``fit(...).parameters()``: a dict of numbers.
    """
    arrays = [check_array(f"data[{i}]", d, "[n, ...] arrays of trials") for i, d in enumerate(data)]
    if not arrays or any(a.ndim == 0 or len(a) != len(arrays[0]) for a in arrays):
        raise ValueError(f"data have shapes {[a.shape for a in arrays]}: want [n, ...] each")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 2:
        raise ValueError(f"n_resamples = {n_resamples!r} is not allowed: want an integer >= 2")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level = {level!r} is out of range: allowed (0, 1)")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator = {generator!r} is not allowed: want a torch.Generator")
    estimates = fit(*arrays).parameters()
    n = len(arrays[0])
    rows = torch.randint(n, (n_resamples, n), generator=generator).numpy()
    samples = [list(fit(*(a[r] for a in arrays)).parameters().values()) for r in rows]
    return BootstrapIntervals(
        names=tuple(estimates),
        estimates=np.array(list(estimates.values())),
        samples=np.array(samples),
        level=float(level),
    )
