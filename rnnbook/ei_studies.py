"""What seed 000's E/I pages need beyond the package's general parts.

- :func:`ablation_variants`: the ablation grid's control and single-factor variants, as values
  of the sweep grid's linked axis :data:`ABLATION_FIELDS`;
- :func:`attribution_loss`: the loss the original's gradient attribution differentiates;
- :func:`full_length_trials`: trials of one length (no padding), so that a step is the same
  period in every trial;
- :func:`fixed_points_by_input`: fixed points of one network at several constant inputs, each
  with its Euler-map reading (``analysis.map_stability``);
- :func:`compare_groups` and :func:`compare_to_control`: mean differences between groups of
  networks with their 95 % intervals, and the reading the prose quotes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from rnnbook.analysis import find_fixed_points, map_stability, sample_states
from rnnbook.analysis.comparison import compare_means, holm
from rnnbook.training.losses import modcog_loss

ABLATION_FIELDS = ("leak", "activation", "readout_weights", "penalties")


def ablation_variants(control_leak: float, leaks, penalties) -> dict[str, tuple]:
    """name -> (leak, activation, readout weights, penalties): seed 000's ablation control
    (``control_leak``, softplus, readout from all units, ``penalties`` with the row-sum
    term) and one variant per changed factor: each of ``leaks``, tanh, the E-only readout, and
    no row-sum penalty (``penalties`` less its "row_sum" entry)."""
    penalties = tuple(penalties)
    if not any(p.name == "row_sum" for p in penalties):
        raise ValueError("ablation_variants: the control's penalties must include 'row_sum'")
    control = (control_leak, "softplus", "free", penalties)
    return {
        "control": control,
        **{f"leak {leak:g}": (leak, *control[1:]) for leak in leaks},
        "tanh": (control_leak, "tanh", "free", penalties),
        "E-only readout": (control_leak, "softplus", "e_only", penalties),
        "no row-sum": (
            control_leak,
            "softplus",
            "free",
            tuple(p for p in penalties if p.name != "row_sum"),
        ),
    }


def variant_of(table, variants: dict[str, tuple]) -> list[str]:
    """The variant name of each row of a sweep table over :data:`ABLATION_FIELDS`."""
    names = {value: name for name, value in variants.items()}
    return [names[tuple(row)] for row in table[list(ABLATION_FIELDS)].itertuples(index=False)]


def attribution_loss(trials, *, label_smoothing: float, fixdown_weight: float):
    """``loss(outputs, rates)`` for ``rb.collect_gradients``: the combined Mod-Cog loss on
    ``trials`` (label smoothing) plus ``fixdown_weight`` times the mean squared fixation output
    over the decision steps (the original's ``ModCogLossCombined``; 0.05 in its credit runs)."""
    decision = trials.periods["decision"]
    weight = trials.mask * decision

    def loss(outputs, rates):
        task = modcog_loss(
            outputs, trials.targets, trials.mask, decision=decision, label_smoothing=label_smoothing
        )
        fixdown = (outputs[..., 0].square() * weight).sum() / weight.sum().clamp_min(1e-12)
        return task + fixdown_weight * fixdown

    return loss


def full_length_trials(trials, n: int):
    """The first ``n`` (at most) of ``trials`` whose mask is non-zero up to the last step: no
    padding, so every step is the same period in each when their periods are fixed."""
    full = ((trials.mask > 0).sum(dim=1) == trials.n_steps).nonzero().squeeze(1)
    if len(full) == 0:
        raise ValueError("full_length_trials: no trial fills every step; sample more trials")
    return trials.select(full[:n])


def fixed_points_by_input(
    model, states, inputs: dict, *, n_starts: int, noise: float, mask, generator
):
    """name -> (FixedPoints, MapStability) of ``model`` at each constant input of ``inputs``
    (name -> [n_in]), searched from ``n_starts`` states drawn from ``states [B, T, N]`` where
    ``mask [B, T]`` is true, plus Gaussian noise of SD ``noise`` times those states' SD."""
    mask = torch.as_tensor(mask, dtype=torch.bool)
    scale = float(torch.as_tensor(states)[mask].std())
    found = {}
    for name, u in inputs.items():
        starts = sample_states(
            states, n_starts, generator=generator, noise=noise * scale, mask=mask
        )
        points = find_fixed_points(model, u, starts)
        found[name] = (points, map_stability(points, dt=model.config.dt))
    return found


DETECTED, NOT_DETECTED, TOO_FEW = (
    "a difference detected",
    "no difference detected at this n",
    "too few networks to compare",
)


def compare_groups(a, b, *, seed: int = 0) -> dict:
    """mean(a) − mean(b) over the finite values of ``a`` [n_a] and ``b`` [n_b] (e.g. one metric
    of two groups of networks), as ``rb.compare_means`` gives it: keys ``diff``, ``low``,
    ``high`` (95 % bootstrap interval), ``p_value`` (permutation), ``n_a``, ``n_b`` and
    ``reading``: :data:`DETECTED` when the interval excludes 0 and p < 0.05 (at a handful of
    networks the bootstrap interval alone is too narrow: with 2 against 2 it excludes 0 whenever
    the groups do not overlap, while no permutation p can be below 1/3), :data:`NOT_DETECTED`
    otherwise, and :data:`TOO_FEW` (numbers NaN) when either group has fewer than two finite
    values."""
    a, b = (np.asarray(v, dtype=float) for v in (a, b))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    out = {"diff": np.nan, "low": np.nan, "high": np.nan, "p_value": np.nan}
    out |= {"n_a": len(a), "n_b": len(b), "reading": TOO_FEW}
    if min(len(a), len(b)) < 2:
        return out
    d = compare_means(a, b, seed=seed)
    reading = DETECTED if d.detected and d.p_value < 0.05 else NOT_DETECTED
    return (
        out
        | {"diff": d.diff, "low": d.low, "high": d.high, "p_value": d.p_value}
        | {"reading": reading}
    )


def compare_to_control(table, value: str, *, variant: str, group: str, control: str = "control"):
    """Each variant of ``table`` against the ``control`` variant, within each value of
    ``group`` (e.g. the optimiser), by :func:`compare_groups` of ``value`` over the finished
    runs (``status`` not "failed"). One row per (group, variant): ``diff`` (variant minus
    control), ``low``, ``high``, ``p_value``, ``p_holm`` (Holm-adjusted over every comparison
    with a p-value) and ``reading``: :data:`DETECTED` only when ``p_holm`` < 0.05."""
    done = table[table["status"] != "failed"]
    rows = {}
    for g in dict.fromkeys(done[group]):
        cell = done[done[group] == g]
        reference = cell[cell[variant] == control][value]
        for name in dict.fromkeys(cell[variant]):
            if name != control:
                rows[(g, name)] = compare_groups(cell[cell[variant] == name][value], reference)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=[group, variant])
    tested = out.p_value.notna()
    out["p_holm"] = np.nan
    if tested.any():
        out.loc[tested, "p_holm"] = holm(out.p_value[tested].to_numpy())
        out.loc[tested, "reading"] = np.where(out.p_holm[tested] < 0.05, DETECTED, NOT_DETECTED)
    return out
