"""The largest Lyapunov exponent of autonomous dynamics, by the two-trajectory method.

Benettin's method: run a reference trajectory ``x`` and a copy ``x'`` displaced from it by
``d0``; after every ``renorm_steps`` steps measure their distance ``d``, add ``ln(d / d0)`` to
a running sum and move ``x'`` back to distance ``d0`` from ``x`` along the current separation.
The sum over the measured time ``T`` is the largest Lyapunov exponent, ``lambda = sum / T``:
the mean rate at which nearby trajectories separate (> 0: chaos, sensitive dependence on the
initial state; 0: a limit cycle or a neutral direction; < 0: the trajectories converge, to a
fixed point). Exponents are in 1/s; times in ms.

The dynamics are those that are simulated: Euler steps ``x + dt * velocity(x)``, so a model
is measured at its own ``dt`` (the exponent of the Euler map, which approaches that of the
continuous flow as ``dt -> 0``; for a linear system ``dx/dt = A x`` it is exactly
``ln rho(I + dt A) / dt``, where ``rho`` is the spectral radius). Everything runs in float64,
so that ``d0`` can be small against the state without round-off entering the separation.

:func:`lyapunov_exponent` takes any velocity field; :func:`largest_lyapunov` measures a rate
RNN's spontaneous dynamics (no input, no noise), from several random initial states.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.analysis.results import Result
from rnnbook.runtime import torch_threads
from rnnbook.seeding import Seeds


@dataclass(frozen=True, eq=False)
class Lyapunov(Result):
    """Largest Lyapunov exponents, one per initial state.

    exponents:    [S] the exponent measured from each initial state (1/s).
    dt:           the Euler step of the dynamics (ms).
    duration_ms:  the time over which the separation was measured (after the transient).
    transient_ms: the time run before the measurement starts.
    d0:           the separation the perturbed copy is reset to.
    """

    exponents: np.ndarray
    dt: float
    duration_ms: float
    transient_ms: float
    d0: float

    @property
    def exponent(self) -> float:
        """The mean over the initial states (1/s)."""
        return float(np.mean(self.exponents))

    @property
    def resolution(self) -> float:
        """1 / the measured time (1/s): a limit cycle or a neutral direction, whose exact
        exponent is 0, measures within a few of these of 0 over this time."""
        return 1000.0 / self.duration_ms


def _check(duration_ms: float, transient_ms: float, dt: float, renorm_steps: int, d0: float):
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"lyapunov: dt = {dt!r} must be > 0 (ms)")
    if not (math.isfinite(duration_ms) and duration_ms >= dt):
        raise ValueError(f"lyapunov: duration_ms = {duration_ms!r} must be at least one step")
    if not (math.isfinite(transient_ms) and transient_ms >= 0):
        raise ValueError(f"lyapunov: transient_ms = {transient_ms!r} must be >= 0 (ms)")
    if not (isinstance(renorm_steps, int) and renorm_steps >= 1):
        raise ValueError(f"lyapunov: renorm_steps = {renorm_steps!r} must be an integer >= 1")
    if not (math.isfinite(d0) and 0 < d0 <= 1e-3):
        raise ValueError(f"lyapunov: d0 = {d0!r} must be in (0, 1e-3]")


@torch.no_grad()
def lyapunov_exponent(
    velocity: Callable[[torch.Tensor], torch.Tensor],
    x0,
    *,
    dt: float,
    duration_ms: float,
    transient_ms: float = 0.0,
    renorm_steps: int = 1,
    d0: float = 1e-8,
    generator: torch.Generator | None = None,
) -> Lyapunov:
    """The largest Lyapunov exponent (1/s) of ``x <- x + dt * velocity(x)`` from each initial
    state ``x0 [..., S, N]`` (two-trajectory method, see the module docstring); ``exponents``
    has the shape ``[..., S]``.

    ``velocity`` maps states ``[..., 2 S, N]`` (float64: each reference state and its
    perturbed copy, one call per step) to ``dx/dt`` per ms. The perturbation
    starts in a random direction (from ``generator``) and is renormalised every
    ``renorm_steps`` steps throughout; during the first ``transient_ms`` the reference settles
    onto its attractor and the perturbation turns towards the most expanding direction, and
    only the separation over the following ``duration_ms`` is counted.
    """
    _check(duration_ms, transient_ms, dt, renorm_steps, d0)
    x = torch.as_tensor(x0, dtype=torch.float64).clone()
    if x.ndim < 2:
        raise ValueError(
            f"lyapunov_exponent takes initial states x0 [..., S, N]; got {tuple(x.shape)}"
        )
    # [S, N], the same for every leading index (e.g. every network of a list)
    direction = torch.randn(x.shape[-2:], generator=generator, dtype=torch.float64)
    y = x + d0 * direction / direction.norm(dim=-1, keepdim=True)
    n_transient = round(transient_ms / dt)
    n_steps = max(round(duration_ms / dt) // renorm_steps, 1) * renorm_steps
    log_growth = torch.zeros(x.shape[:-1], dtype=torch.float64)
    n = x.shape[-2]
    z = torch.cat([x, y], dim=-2)  # [..., 2 S, N]: both trajectories in one call
    for step in range(1, n_transient + n_steps + 1):
        z = z + dt * velocity(z)
        if step % renorm_steps == 0 or step == n_transient:
            x, y = z[..., :n, :], z[..., n:, :]
            d = (y - x).norm(dim=-1, keepdim=True)
            if not bool(torch.isfinite(d).all() & (d > 0).all()):
                raise FloatingPointError(
                    "lyapunov_exponent: the separation became 0 or not finite (d0 too small for "
                    "the state, or the dynamics diverge); try a larger d0 or fewer renorm_steps"
                )
            if step > n_transient:
                log_growth += torch.log(d[..., 0] / d0)
            z = torch.cat([x, x + (y - x) * (d0 / d)], dim=-2)
    measured_ms = n_steps * dt
    return Lyapunov(
        exponents=(log_growth * (1000.0 / measured_ms)).numpy(),
        dt=float(dt),
        duration_ms=float(measured_ms),
        transient_ms=float(n_transient * dt),
        d0=float(d0),
    )


def largest_lyapunov(
    model: torch.nn.Module | Sequence[torch.nn.Module],
    *,
    n_starts: int = 4,
    h0: float = 0.1,
    duration_ms: float = 20_000.0,
    transient_ms: float = 5_000.0,
    renorm_steps: int = 1,
    d0: float = 1e-8,
    seed: int = 0,
) -> Lyapunov:
    """The largest Lyapunov exponent (1/s) of ``model``'s spontaneous dynamics: no input, no
    noise, simulated at the model's own ``dt`` (a copy in float64; the model is unchanged).

    ``n_starts`` initial states, each unit drawn from N(0, h0^2) (``h0`` > 0: a network
    without biases stays at rest from 0), and the perturbation directions come from the
    seed's ``units`` stream. ``model`` needs ``velocity(x, inputs)`` and ``config`` with
    ``dt``, ``n_in`` and ``n_rec`` (a ``RateRNN``). A list of models of one size and ``dt``
    (e.g. the networks of a study) is measured in one pass, from the same initial states and
    perturbation directions, and gives a list of results, one per model.
    """
    if isinstance(model, Sequence):
        return _largest_lyapunov_many(
            list(model), n_starts, h0, duration_ms, transient_ms, renorm_steps, d0, seed
        )
    return _largest_lyapunov_many(
        [model], n_starts, h0, duration_ms, transient_ms, renorm_steps, d0, seed
    )[0]


def _largest_lyapunov_many(models, n_starts, h0, duration_ms, transient_ms, renorm_steps, d0, seed):
    if not (isinstance(n_starts, int) and n_starts >= 1):
        raise ValueError(f"largest_lyapunov: n_starts = {n_starts!r} must be an integer >= 1")
    if not (math.isfinite(h0) and h0 > 0):
        raise ValueError(f"largest_lyapunov: h0 = {h0!r} must be > 0")
    if not models:
        raise ValueError("largest_lyapunov: no model given")
    cfg = models[0].config
    for m in models:
        if (m.config.n_rec, m.config.n_in, m.config.dt) != (cfg.n_rec, cfg.n_in, cfg.dt):
            raise ValueError(
                "largest_lyapunov: the models differ in n_rec, n_in or dt; measure them apart"
            )
    twins = [_float64_copy(m) for m in models]
    gen = Seeds.from_seed(seed).generator("units")
    x0 = h0 * torch.randn(n_starts, cfg.n_rec, generator=gen, dtype=torch.float64)
    silent = torch.zeros(1, cfg.n_in, dtype=torch.float64)

    def velocity(z: torch.Tensor) -> torch.Tensor:  # [K, 2 S, N]
        return torch.stack([twin.velocity(zk, silent) for twin, zk in zip(twins, z, strict=True)])

    with torch_threads(1):  # small matrices: one thread is fastest, and shares the machine
        measured = lyapunov_exponent(
            velocity,
            x0.expand(len(models), -1, -1),
            dt=cfg.dt,
            duration_ms=duration_ms,
            transient_ms=transient_ms,
            renorm_steps=renorm_steps,
            d0=d0,
            generator=gen,
        )
    return [
        dataclasses.replace(measured, exponents=measured.exponents[k]) for k in range(len(models))
    ]


def _float64_copy(model: torch.nn.Module) -> torch.nn.Module:
    """A float64 copy on the CPU (the model itself is unchanged)."""
    return copy.deepcopy(model).to(device="cpu", dtype=torch.float64)
