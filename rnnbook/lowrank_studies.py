"""What seed 004's page (low-rank developmental networks) needs beyond the package's general parts.

- :func:`developmental_specs`: the premature and mature low-rank RNNs and the tiny GRU on each
  session task and seed, with one data set and schedule (``recipes.lowrank_spec`` / ``gru_spec``);
- :func:`test_metrics`: a trained run's test accuracy and NLL on the test sessions of its data
  set, the spectrum of its recurrent weights and its response heterogeneity, as the original's
  ``get_model_metrics`` and test loop measure them; :func:`reversal_predictions`: its predicted
  choices on fresh reversal sessions, for ``analysis.adaptation_speed``;
- :func:`open_loop_choices`: a network's first-stage choices on the two-stage task as the
  original takes them (the argmax of its predictions on the scripted agent's sessions);
  :func:`closed_loop_trials`: sessions played by a learning agent (the references);
- :func:`signature_row`: the stay probabilities, indices and stay regression of choices, as one
  table row; :func:`mean_sd`: a table's "mean ± SD" per group;
- :func:`predicted_stay_row`: the same signatures of a network's predicted probabilities;
- :data:`README_EXPECTED`, :func:`target_spectrum_metrics` and :func:`expectation_table`: the
  seed README's expected values, what the code's own metrics give for the exact target spectra
  the penalties pull towards (spec 4.5, 4.7), and the README beside what is measured.
"""

from __future__ import annotations

import math

import torch

from rnnbook.analysis import (
    recurrent_spectrum,
    response_heterogeneity,
    stay_probabilities,
    stay_regression,
    sv_decay_fit,
)
from rnnbook.models import TinyGRU
from rnnbook.models.low_rank import effective_rank
from rnnbook.recipes import MATURITY, gru_spec, lowrank_spec
from rnnbook.seeding import Seeds
from rnnbook.tasks import make_task
from rnnbook.tasks.bandit_agents import run_agent
from rnnbook.training.soft_targets import masked_soft_cross_entropy

MODEL_KINDS = ("premature", "mature", "GRU")  # the models compared, in the original's order
# The seed README's "Expected Results" and its prediction 2, beside the metric that measures each:
# label -> (metric column, premature, mature). A value (range) or which way mature differs:
# "higher" / "lower" than premature ("fewer" trials to adapt: faster adaptation).
README_EXPECTED = {
    "effective rank D (σ² form, the code's)": ("D", (7.0, 8.0), (5.0, 6.0)),
    "effective rank D (σ form)": ("D_sigma", (7.0, 8.0), (5.0, 6.0)),
    "SV decay γ̂ (fit over all N, the code's)": ("gamma_all", (0.2, 0.2), (0.4, 0.4)),
    "SV decay γ̂ (fit over the top r + 1)": ("gamma_top", (0.2, 0.2), (0.4, 0.4)),
    "response heterogeneity H": ("H", "lower", "higher"),
    "trials to adapt after a reversal": ("trials_to_adapt", "more", "fewer"),
    "model-based index (interaction)": ("mb_interaction", "lower", "higher"),
}


def developmental_specs(tasks, seeds, *, n_rec: int, gru_units: int, **data) -> dict:
    """(task, model, seed) -> RunSpec for every session task of ``tasks``, model of
    ``MODEL_KINDS`` and seed: ``lowrank_spec`` with ``n_rec`` units for the premature and mature
    networks, ``gru_spec`` with ``gru_units`` for the GRU; ``data``: the keywords both share
    (n_sessions, n_trials, n_epochs, batch_size, lr)."""
    specs = {}
    for task in tasks:
        for kind in MODEL_KINDS:
            for seed in seeds:
                if kind == "GRU":
                    spec = gru_spec(task=task, n_rec=gru_units, seed=seed, **data)
                else:
                    spec = lowrank_spec(task=task, maturity=kind, n_rec=n_rec, seed=seed, **data)
                specs[task, kind, seed] = spec
    return specs


def test_sessions(spec):
    """The test sessions of a run's fixed data set (its task config with ``split="test"``)."""
    return make_task(spec.task, spec.task_config).with_config(split="test").sessions()


@torch.no_grad()
def test_metrics(run) -> dict:
    """A run's test metrics: ``accuracy`` (argmax of the logits = argmax of the target) and
    ``nll`` (the soft-target cross-entropy, nats) on its test sessions; of its recurrent matrix
    (``analysis.recurrent_spectrum``; the GRU's: its candidate weight on the state) the
    effective rank ``D`` (the code's sigma^2 form) and ``D_sigma``, the SV decay ``gamma_all``
    (the original's fit over all N values) and ``gamma_top`` (over the top r + 1), the numerical
    ``rank``; the response heterogeneity at the test sessions' last states, ``H`` (the
    original's proxy) and ``H_exact`` (NaN for the GRU, which has no rate dynamics to kick)."""
    trials = test_sessions(run.spec)
    rollout = run.model(trials.inputs)
    hits = rollout.outputs.argmax(-1) == trials.targets.argmax(-1)
    spectrum = recurrent_spectrum(run.model)
    metrics = {
        "accuracy": float(hits.float().mean()),
        "nll": float(masked_soft_cross_entropy(rollout.outputs, trials.targets, trials.mask)),
        "D": spectrum.effective_rank,
        "D_sigma": spectrum.effective_rank_sigma,
        "gamma_all": spectrum.gamma_all,
        "gamma_top": spectrum.gamma_top,
        "rank": spectrum.numerical_rank,
        "H": math.nan,
        "H_exact": math.nan,
    }
    if not isinstance(run.model, TinyGRU):
        hetero = response_heterogeneity(run.model, rollout.states[:, -1])
        metrics |= {"H": hetero.mean_proxy, "H_exact": hetero.mean_exact}
    return metrics


def fresh_task(spec, **changes):
    """The run's task drawing fresh sessions (no fixed data set), with ``changes`` (e.g.
    ``n_trials``)."""
    return make_task(spec.task, spec.task_config).with_config(n_sessions=0, split="all", **changes)


@torch.no_grad()
def reversal_predictions(run, *, n_sessions: int, n_trials: int, seed: int):
    """(probs [B, T, 2], trials): a reversal-learning run's predicted choice probabilities on
    ``n_sessions`` fresh sessions of ``n_trials`` trials from the ``test_trials`` stream of
    ``seed``, for ``analysis.adaptation_speed`` (the original: one session of 300 trials)."""
    task = fresh_task(run.spec, n_trials=n_trials)
    trials = task.sample(n_sessions, generator=Seeds.from_seed(seed).generator("test_trials"))
    return torch.softmax(run.model(trials.inputs).outputs, -1), trials


@torch.no_grad()
def open_loop_choices(model, task, n_sessions: int, *, seed: int):
    """(trials, choices [B, T]): ``n_sessions`` fresh sessions of ``task`` played by its scripted
    agent (from the ``test_trials`` stream of ``seed``) and the network's predicted choices,
    the argmax of its logits: the original's ``analyze_two_stage_signatures`` (rewards and
    transitions are those of the scripted agent's choices)."""
    trials = task.sample(n_sessions, generator=Seeds.from_seed(seed).generator("test_trials"))
    return trials, model(trials.inputs).outputs.argmax(-1)


def closed_loop_trials(agent, task, n_sessions: int, *, seed: int):
    """``n_sessions`` fresh sessions of ``task`` played closed loop by ``agent`` (a learner of
    ``tasks.bandit_agents``), from the ``test_trials`` stream of ``seed``."""
    return run_agent(
        task, agent, n_sessions, generator=Seeds.from_seed(seed).generator("test_trials")
    )


def signature_row(choices, trials) -> dict:
    """The two-step signatures of first-stage ``choices`` [B, T] on two-stage ``trials`` (their
    rewards and transitions): the four stay probabilities ``P_cr, P_cu, P_rr, P_ru``, the MF
    index, the MB index as the original codes it (``mb_original``) and as Daw 2011 defines it
    (``mb_interaction``), and the stay regression's coefficients and standard errors."""
    args = (choices, trials.conditions["reward"], trials.conditions["transition"])
    stays, fit = stay_probabilities(*args), stay_regression(*args)
    (cu, cr), (ru, rr) = stays.p_stay
    row = {"P_cr": cr, "P_cu": cu, "P_rr": rr, "P_ru": ru, "mf_index": stays.mf_index}
    row |= {"mb_original": stays.mb_index_original, "mb_interaction": stays.mb_interaction}
    for term in ("reward", "transition", "interaction"):
        row |= {f"b_{term}": getattr(fit, term), f"se_{term}": getattr(fit, f"{term}_se")}
    return {k: float(v) for k, v in row.items()}


def predicted_stay_row(probs, trials) -> dict:
    """The two-step signatures of a network's predictions on two-stage ``trials`` played by
    their scripted agent: on each trial t, the predicted probability ``probs [B, T, 2]`` of
    repeating the agent's choice a_t on trial t + 1, averaged by t's transition x reward (the
    expected stay probability of a player choosing by the network's prediction): ``P_cr, P_cu,
    P_rr, P_ru`` and the indices of :func:`signature_row` (no regression: these are not
    choices)."""
    action = torch.as_tensor(trials.conditions["action"])
    repeat = torch.as_tensor(probs)[:, 1:].gather(2, action[:, :-1, None])[..., 0]  # [B, T - 1]
    reward = torch.as_tensor(trials.conditions["reward"])[:, :-1].bool()
    rare = torch.as_tensor(trials.conditions["transition"])[:, :-1].bool()
    p = {
        f"P_{t}{r}": float(repeat[(rare == (t == "r")) & (reward == (r == "r"))].mean())
        for t in "cr"
        for r in "ru"
    }
    (cr, cu), (rr, ru) = (p["P_cr"], p["P_cu"]), (p["P_rr"], p["P_ru"])
    indices = {
        "mf_index": ((cr - cu) + (rr - ru)) / 2,
        "mb_original": cr - rr,
        "mb_interaction": (cr - cu) - (rr - ru),
    }
    return p | indices


def target_spectrum_metrics(n_rec: int) -> dict[str, dict[str, float]]:
    """maturity -> what the code's metrics give for its exact target spectrum ``exp(-gamma i)``,
    i < r, padded with zeros to ``n_rec`` values (what the spectral penalty pulls towards): the
    effective ranks ``D`` (the code's sigma^2 form: premature 4.670, mature 2.537, spec 4.7)
    and ``D_sigma``; the SV decay fitted over all ``n_rec`` values, ``gamma_all`` (the
    original's fit), and over the top r, ``gamma_top`` (= gamma); and ``D_max`` = r + 1, the
    most a rank-(r + 1) matrix can have."""
    out = {}
    for kind, stage in MATURITY.items():
        rank, gamma = stage["rank"], stage["sv_decay"]
        s = torch.exp(-gamma * torch.arange(rank, dtype=torch.float64))
        padded = torch.cat([s, torch.zeros(n_rec - rank, dtype=torch.float64)])
        out[kind] = {
            "D": float(effective_rank(s)),
            "D_sigma": float(effective_rank(s, form="sigma")),
            "gamma_all": sv_decay_fit(padded),
            "gamma_top": sv_decay_fit(s),
            "D_max": rank + 1,
        }
    return out


def expectation_table(frame, task: str, *, n_rec: int):
    """The README's expectations (:data:`README_EXPECTED`) beside what is measured on ``task``.

    ``frame`` has one row per network: ``task``, ``model``, ``seed``, ``status`` and the metric
    columns (rows whose metric is NaN are left out, so a metric measured on one task appears
    there only; a metric without a column is left out). Per expectation: the README's
    premature and mature values; the code's own metric on the exact target spectra
    (:func:`target_spectrum_metrics`); the measured mean ± SD over networks; the difference
    mature - premature read against twice the larger SD (``sweep_tables.compare_to_reference``);
    and whether the README holds: a value when it lies within the measured mean ± 2 SD, a
    direction (also the one a pair of values implies) when the difference has the README's
    sign and exceeds the spread.
    """
    import pandas as pd

    from rnnbook.sweep_tables import compare_to_reference, summarise_cells

    target = target_spectrum_metrics(n_rec)
    rows = []
    for label, (metric, premature, mature) in README_EXPECTED.items():
        if metric not in frame.columns:
            continue
        data = frame[(frame.task == task) & frame.model.isin(("premature", "mature"))]
        data = data[data[metric].notna()]
        if data.model.nunique() < 2:
            continue
        cells = summarise_cells(data, "model", metric)
        versus = compare_to_reference(cells, "premature", level="model").loc["mature"]
        measured = {
            k: f"{cells.loc[k, 'mean']:.3g} ± {cells.loc[k, 'sd']:.2g}" for k in cells.index
        }
        rows.append({
            "expectation": label,
            "README (premature / mature)": f"{_readme(premature)} / {_readme(mature)}",
            "target spectrum": " / ".join(
                f"{target[k][metric]:.3g}" for k in ("premature", "mature")
            ) if metric in target["mature"] else "",
            "measured premature": measured["premature"],
            "measured mature": measured["mature"],
            "mature − premature": f"{versus.difference:+.3g} ({versus.reading})",
            "README holds": _holds(cells, versus, premature, mature),
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("expectation")


def _readme(value) -> str:
    if isinstance(value, str):
        return value
    low, high = value
    return f"~{low:g}" if low == high else f"~{low:g}-{high:g}"


def _holds(cells, versus, premature, mature) -> str:
    """ "yes" / "no: ..." for a direction; for values, each model's verdict and the direction
    the README's values imply (mature above or below premature)."""
    if isinstance(mature, str):  # a direction: higher / lower / fewer
        return _direction(versus, 1 if mature == "higher" else -1)
    verdicts = []
    for kind, (low, high) in (("premature", premature), ("mature", mature)):
        mean, sd = cells.loc[kind, "mean"], cells.loc[kind, "sd"]
        verdicts.append("yes" if mean - 2 * sd <= high and low <= mean + 2 * sd else "no")
    wanted = 1 if sum(mature) > sum(premature) else -1
    return f"values {' / '.join(verdicts)}; direction {_direction(versus, wanted)}"


def _direction(versus, wanted: int) -> str:
    if versus.reading != "effect":
        return "no: no difference"
    return "yes" if wanted * versus.difference > 0 else "no: the opposite"


# how a reading of ``sweep_tables.compare_to_reference`` reads in "a difference ___ twice the SD"
READINGS = {
    "effect": "more than",
    "within the spread": "within",
    "too few runs": "(too few runs for)",
}


def versus_premature(frame, column: str, *, by=("model",)):
    """``sweep_tables.compare_to_reference`` of ``column`` per cell of ``by`` (which includes
    ``model``) against the premature networks: columns difference, spread, reading and
    ``words`` (:data:`READINGS`)."""
    from rnnbook.sweep_tables import compare_to_reference, summarise_cells

    versus = compare_to_reference(
        summarise_cells(frame, list(by), column), "premature", level="model"
    )
    return versus.assign(words=versus.reading.map(READINGS))


def mean_sd(frame, by, columns, *, digits: int = 3):
    """Per group of rows sharing ``by``: "mean ± SD" of each of ``columns`` over the group's rows
    (blank where the column is NaN), groups in order of appearance."""
    grouped = frame.groupby(by, sort=False)[list(columns)]
    mean, sd = grouped.mean(), grouped.std()
    out = mean.astype(object)
    for c in columns:
        out[c] = [
            "" if m != m else f"{m:.{digits}g}" + ("" if s != s else f" ± {s:.2g}")
            for m, s in zip(mean[c], sd[c], strict=True)
        ]
    return out
