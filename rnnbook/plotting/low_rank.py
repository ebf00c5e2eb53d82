"""Figures of low-rank networks and of learning on session tasks (seed 004): held-out accuracy
over networks, singular-value spectra with their fitted decay, stay probabilities of the
two-step task, and the flow field in a low-rank network's subspace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.ticker import MaxNLocator

from rnnbook.plotting.style import axes_or_new, colors_for

CELLS = {  # stay-probability column -> (reward, transition)
    "P_cr": ("rewarded", "common"),
    "P_rr": ("rewarded", "rare"),
    "P_cu": ("unrewarded", "common"),
    "P_ru": ("unrewarded", "rare"),
}
TRANSITION_COLORS = {"common": "#0072B2", "rare": "#D55E00"}
POINT_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*")  # fixed points of the flow field
# cividis without its light top fifth, so that fast streamlines stay visible on white
SPEED_CMAP = ListedColormap(matplotlib.colormaps["cividis"](np.linspace(0, 0.8, 256)))
TERM_MARKERS = {"reward": "o", "transition": "^", "interaction": "s"}  # stay-regression terms


def plot_eval_curves(histories: Mapping[str, Sequence], *, per_epoch: int | None = None,
                     chance: float | None = None, ax=None):  # fmt: skip
    """Held-out accuracy at each evaluation, per named group of training runs (e.g. a model over
    seeds): the mean over the group's runs as a line, ± their SD as a band; returns the Axes.

    histories: name -> Histories evaluated at the same steps. per_epoch: steps per epoch (the
    x axis in epochs; None: in steps). chance: a dotted guide line.
    """
    ax = axes_or_new(ax)
    for (name, group), color in zip(histories.items(), colors_for(histories), strict=True):
        steps = np.asarray(group[0].eval_step, dtype=float)
        curves = np.array([h.eval_accuracy for h in group], dtype=float)  # [runs, evaluations]
        mean = curves.mean(0)
        sd = curves.std(0, ddof=1) if len(curves) > 1 else np.zeros_like(mean)
        x = steps / per_epoch if per_epoch else steps
        ax.plot(x, mean, color=color, label=f"{name} (n = {len(curves)})")
        band = np.clip(mean - sd, 0, 1), np.clip(mean + sd, 0, 1)  # accuracies lie in [0, 1]
        ax.fill_between(x, *band, color=color, alpha=0.2, lw=0)
    if chance is not None:
        ax.axhline(chance, color="0.6", lw=0.8, ls=":", zorder=0)
    ax.set_xlabel("epoch" if per_epoch else "training step")
    ax.set_ylabel("validation accuracy")
    ax.legend()
    return ax


def plot_spectra(spectra: Mapping[str, Sequence], *, references=(0.2, 0.4), n: int = 15,
                 floor: float = 1e-3, ax=None):  # fmt: skip
    """Normalised singular values σ_i / σ_1 (i = 1 .. ``n``, log scale) of named groups of
    ``RecurrentSpectrum`` (``analysis.recurrent_spectrum``): each network thin, the geometric
    mean bold, labelled with the mean SV decay fitted over all values (γ̂, the original's) and
    over the top r + 1 ("γ̂ all / top"); dashed references ``exp(-γ (i - 1))`` for each γ of
    ``references``. Values below ``floor`` (the rank's numerically zero ones) sit at the bottom
    edge; returns the Axes."""
    ax = axes_or_new(ax)
    for (name, group), color in zip(spectra.items(), colors_for(spectra), strict=True):
        curves = np.array([np.asarray(s.normalised)[:n] for s in group])  # [networks, n]
        shown = np.clip(curves, floor, None)
        index = np.arange(1, shown.shape[1] + 1)
        for curve in shown:
            ax.plot(index, curve, color=color, lw=0.6, alpha=0.4)
        gamma_all = np.mean([s.gamma_all for s in group])
        gamma_top = np.mean([s.gamma_top for s in group])
        label = f"{name}: γ̂ {gamma_all:.2f} / {gamma_top:.2f}"  # all N / top r + 1
        ax.plot(index, np.exp(np.log(shown).mean(0)), "o-", ms=3, color=color, label=label)
    x = np.arange(1, n + 1)
    for gamma in references:
        ax.plot(x, np.exp(-gamma * (x - 1)), "--", color="0.5", lw=0.8)
        ax.annotate(f"γ = {gamma:g}", (x[-1], np.exp(-gamma * (n - 1))), color="0.4",
                    ha="right", va="bottom")  # fmt: skip
    ax.set_yscale("log")
    ax.set_ylim(floor * 0.8, 1.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("index i")
    ax.set_ylabel("σᵢ / σ₁")
    ax.legend(loc="lower left")
    return ax


def plot_stay_probabilities(table, *, title: str | None = None, bars: bool = True, ax=None):
    """Two-step stay probabilities, rewarded and unrewarded, after common (blue) and rare
    (orange) transitions: ``table`` has one row per network or agent with columns ``P_cr``,
    ``P_rr``, ``P_cu``, ``P_ru``; the mean a bar from 0 (``bars``) or a bold tick on an axis
    fitted to the data (``bars=False``, for small differences), a dot each row, the error bar
    ± SD; returns the Axes."""
    ax = axes_or_new(ax)
    for column, (reward, transition) in CELLS.items():
        values = np.asarray(table[column], dtype=float)
        x = (reward == "unrewarded") + (0.2 if transition == "rare" else -0.2)
        color = TRANSITION_COLORS[transition]
        sd = values.std(ddof=1) if len(values) > 1 else 0.0
        label = transition if reward == "rewarded" else None
        if bars:
            ax.bar(x, values.mean(), width=0.38, color=color, alpha=0.75, label=label)
        else:
            ax.plot([x - 0.15, x + 0.15], [values.mean()] * 2, color=color, lw=3, label=label)
        ax.errorbar(x, values.mean(), yerr=sd, color="k", lw=1, capsize=2)
        ax.scatter(np.full(len(values), x), values, s=10, color="k", zorder=3)
    ax.set_xticks([0, 1], ["rewarded", "unrewarded"])
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylabel("P(stay)")
    if title:
        ax.set_title(title)
    return ax


def plot_by_model(table, column: str, *, models=None, chance: float | None = None, ax=None):
    """One metric per model (seed 004's bar panels): ``table`` has one row per network with a
    ``model`` column; a bar in the model's colour is the mean over its networks, a dot each
    network, the error bar ± SD. ``models``: the models from left to right (default: as they
    first appear); ``chance``: a dotted guide line. Returns the Axes."""
    ax = axes_or_new(ax)
    models = list(models) if models is not None else list(dict.fromkeys(table["model"]))
    for i, (model, color) in enumerate(zip(models, colors_for(models), strict=True)):
        values = np.asarray(table[table["model"] == model][column], dtype=float)
        values = values[np.isfinite(values)]
        if not len(values):
            continue
        sd = values.std(ddof=1) if len(values) > 1 else 0.0
        ax.bar(i, values.mean(), width=0.6, color=color, alpha=0.6)
        ax.errorbar(i, values.mean(), yerr=sd, color="k", lw=1, capsize=3)
        ax.scatter(np.full(len(values), i), values, s=12, color="k", zorder=3)
    if chance is not None:
        ax.axhline(chance, color="0.6", lw=0.8, ls=":", zorder=0)
    ax.set_xticks(range(len(models)), models)
    ax.set_ylabel(column)
    return ax


def plot_flow_field(
    field, *, points: Mapping | None = None, states=None, time_unit: str = "ms", ax=None
):
    """A low-rank network's flow field (``analysis.flow_field``) as streamlines coloured by log
    speed, in the plane of its two subspace ``axes`` (κ coordinates); ``points``: name ->
    ``SubspaceFixedPoints`` (at any input: κ = Qᵀx* is the same coordinate), in black with one
    marker per name (so they take no colour of the page's), stable filled, unstable open;
    ``states``: [T, N] a trajectory, projected on the plane (κ = Qᵀx);
    ``time_unit``: the model's ``dt`` unit for the speed (a session task's step is one trial).
    Returns the Axes."""
    ax = axes_or_new(ax)
    coords = field.coords.numpy()
    u, v = field.velocity[..., 0].numpy().T, field.velocity[..., 1].numpy().T  # [y, x]
    speed = np.log10(field.speed.numpy().T + 1e-12)
    stream = ax.streamplot(coords, coords, u, v, color=speed, cmap=SPEED_CMAP, density=0.9,
                           linewidth=0.8, arrowsize=0.8)  # fmt: skip
    ax.figure.colorbar(stream.lines, ax=ax, label=f"log10 speed (per {time_unit})")
    i, j = field.axes
    if states is not None:
        kappa = np.asarray(states, dtype=float) @ field.basis.numpy()
        ax.plot(kappa[:, i], kappa[:, j], color="#56B4E9", lw=1.0, label="a session")
    for (name, found), marker in zip((points or {}).items(), POINT_MARKERS, strict=False):
        kappa, stable = found.coordinates.numpy(), found.points.is_stable.numpy()
        for k in range(len(kappa)):
            ax.scatter(kappa[k, i], kappa[k, j], s=40, marker=marker, edgecolors="k", zorder=4,
                       facecolors="k" if stable[k] else "white",
                       label=name if k == 0 else None)  # fmt: skip
    ax.set_xlabel(f"κ{i} ({'m' if i == 0 else f'M column {i}'})")
    ax.set_ylabel(f"κ{j} ({'m' if j == 0 else f'M column {j}'})")
    ax.legend()
    return ax


def plot_stay_coefficients(table, *, group: str = "model", ax=None):
    """The stay regression's reward, transition and interaction coefficients (columns
    ``b_<term>`` and their standard errors ``se_<term>``) of each row of ``table`` (one fit per
    network or agent), side by side per value of ``group``: a dot per fit with its ± SE bar;
    returns the Axes. The terms are told apart by marker (:data:`TERM_MARKERS`) and drawn in
    black, leaving the page's colours to its models. A positive reward coefficient is the
    model-free signature, a positive interaction the model-based one."""
    ax = axes_or_new(ax)
    names = list(dict.fromkeys(table[group]))
    for k, (term, marker) in enumerate(TERM_MARKERS.items()):
        for i, name in enumerate(names):
            rows = table[table[group] == name]
            x = i + (k - 1) * 0.25 + np.linspace(-0.06, 0.06, len(rows))
            ax.errorbar(x, rows[f"b_{term}"], yerr=rows[f"se_{term}"], fmt=marker, ms=4,
                        color="k", mfc="k" if k != 1 else "white", lw=1,
                        label=term if i == 0 else None)  # fmt: skip
    ax.axhline(0, color="0.6", lw=0.8, ls=":", zorder=0)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("coefficient (log-odds of stay)")
    ax.legend(title="term")
    return ax


def plot_summary_table(table, columns: Mapping[str, str], *, models=("premature", "mature"),
                       ax=None):  # fmt: skip
    """Seed 004's summary table (its panel F): for each metric column of ``columns`` (column ->
    row label), the mean over each model's rows of ``table`` (one row per network, a ``model``
    column) and the difference of the last model from the first (headed by the first three and
    four letters of their names, as the original's "Δ (Mat − Prem)", on two lines); drawn as a
    table on ``ax``, whose axes are hidden. Returns the Axes."""
    ax = axes_or_new(ax)
    means = table.groupby("model")[list(columns)].mean()  # [models, metrics]
    first, last = models[0], models[-1]
    cells = [
        [f"{means.loc[m, c]:.3g}" for m in models]
        + [f"{means.loc[last, c] - means.loc[first, c]:+.2g}"]
        for c in columns
    ]
    delta = f"Δ\n{last[:3]} − {first[:4]}"  # the original's "Δ (Mat − Prem)"
    drawn = ax.table(cells, rowLabels=list(columns.values()), colLabels=[*models, delta],
                     bbox=(0.25, 0.05, 0.75, 0.9))  # row labels: the left 0.25  # fmt: skip
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(9)
    ax.axis("off")
    return ax


def plot_developmental_comparison(rows, histories: Mapping[str, Sequence],
                                  spectra: Mapping[str, Sequence], *, per_epoch: int | None = None,
                                  chance: float | None = 0.5, fig=None):  # fmt: skip
    """Seed 004's comprehensive figure for one task, six panels A-F in three rows of two (6.6 in
    wide, within the book's column): A validation accuracy per epoch (``histories``, model ->
    Histories, :func:`plot_eval_curves`); B the spectra (``spectra``, low-rank model -> spectra,
    :func:`plot_spectra`); C the effective rank D and D the heterogeneity H of the low-rank
    models; E the test accuracy of every model; F the summary table (:func:`plot_summary_table`).
    ``rows``: one row per network with ``model``, ``D``, ``H``, ``accuracy``, ``nll``,
    ``gamma_all``. Draws on ``fig`` (default: a new figure); returns the Figure."""
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(6.6, 8.6))
    axes = fig.subplots(3, 2)
    low_rank = list(spectra)
    plot_eval_curves(histories, per_epoch=per_epoch, chance=chance, ax=axes[0, 0])
    plot_spectra(spectra, ax=axes[0, 1])
    plot_by_model(rows, "D", models=low_rank, ax=axes[1, 0]).set_ylabel("effective rank D")
    plot_by_model(rows, "H", models=low_rank, ax=axes[1, 1]).set_ylabel("heterogeneity H")
    plot_by_model(rows, "accuracy", chance=chance, ax=axes[2, 0]).set_ylabel("test accuracy")
    summary = {"D": "D", "H": "H", "accuracy": "accuracy", "nll": "NLL (nats)",
               "gamma_all": "γ̂ (all N)"}  # fmt: skip
    plot_summary_table(rows, summary, models=low_rank, ax=axes[2, 1])
    for ax, letter in zip(axes.flat, "ABCDEF", strict=True):
        ax.text(-0.2, 1.04, letter, transform=ax.transAxes, fontsize=12, fontweight="bold")
    return fig
