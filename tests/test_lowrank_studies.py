"""Seed 004's page helpers (rnnbook.lowrank_studies) and figures (rnnbook.plotting.low_rank):
known answers for the target spectra and the stay analyses, the README table's verdicts, and
each figure draws on the Axes it is given."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import rnnbook as rb  # noqa: E402
from rnnbook import lowrank_studies as ls  # noqa: E402
from rnnbook.tasks.bandit_agents import ModelBasedAgent  # noqa: E402

TWO_STAGE = rb.TwoStage(rb.TwoStageConfig(n_trials=60))
SMALL = dict(n_sessions=20, n_trials=30, n_epochs=2, batch_size=4, lr=1e-3)


def test_target_spectra_give_the_specs_effective_ranks_and_their_own_decay():
    target = ls.target_spectrum_metrics(32)
    assert target["premature"]["D"] == pytest.approx(4.670, abs=5e-4)
    assert target["mature"]["D"] == pytest.approx(2.537, abs=5e-4)
    assert target["premature"]["D_sigma"] == pytest.approx(6.66, abs=5e-3)
    assert target["mature"]["D_sigma"] == pytest.approx(3.86, abs=5e-3)
    assert target["premature"]["gamma_top"] == pytest.approx(0.2)
    assert target["mature"]["gamma_top"] == pytest.approx(0.4)
    # the original's fit over all N values, the zeros included, reverses the order
    assert target["premature"]["gamma_all"] > target["mature"]["gamma_all"] > 0.4
    assert (target["premature"]["D_max"], target["mature"]["D_max"]) == (9, 6)


def test_predicted_stays_of_one_hot_next_choices_are_the_stay_probabilities():
    trials = ls.closed_loop_trials(ModelBasedAgent(), TWO_STAGE, 40, seed=0)
    action = trials.conditions["action"]
    one_hot = torch.nn.functional.one_hot(action, 2).float()  # "predicts" the next choice
    predicted = ls.predicted_stay_row(one_hot, trials)
    chosen = ls.signature_row(action, trials)
    for name in ("P_cr", "P_cu", "P_rr", "P_ru", "mf_index", "mb_original", "mb_interaction"):
        assert predicted[name] == pytest.approx(chosen[name], abs=1e-6), name
    assert chosen["mb_interaction"] > 0.2 and chosen["b_interaction"] > 2 * chosen["se_interaction"]


def test_test_metrics_measure_the_test_sessions_and_the_spectrum(tmp_path):
    run = rb.fit(rb.lowrank_spec(maturity="mature", **SMALL), cache_dir=tmp_path, progress=False)
    metrics = ls.test_metrics(run)
    assert 0 <= metrics["accuracy"] <= 1 and metrics["nll"] > 0
    assert metrics["rank"] <= 6 and 1 <= metrics["D"] <= 6 and metrics["H"] >= 0
    assert ls.test_sessions(run.spec).batch_size == 3  # 15 % of 20 sessions
    gru = rb.fit(rb.gru_spec(**SMALL), cache_dir=tmp_path, progress=False)
    gru_metrics = ls.test_metrics(gru)
    assert math.isnan(gru_metrics["H"]) and gru_metrics["rank"] <= 4


def test_developmental_specs_cover_every_task_model_and_seed():
    specs = ls.developmental_specs(["two_stage"], [0, 4], n_rec=16, gru_units=2, **SMALL)
    assert list(specs) == [("two_stage", m, s) for m in ls.MODEL_KINDS for s in (0, 4)]
    assert specs["two_stage", "GRU", 4].model == "gru"
    assert specs["two_stage", "GRU", 4].model_config.n_rec == 2
    assert specs["two_stage", "premature", 0].model_config.rank == 8
    assert specs["two_stage", "mature", 0].model_config.n_rec == 16


def frame(d_mature, h_mature):
    rows = []
    for seed, noise in enumerate((-0.01, 0.0, 0.01)):
        rows.append({"task": "t", "model": "premature", "seed": seed, "status": "done",
                     "D": 7.5 + noise, "H": 1.0 + noise})  # fmt: skip
        rows.append({"task": "t", "model": "mature", "seed": seed, "status": "done",
                     "D": d_mature + noise, "H": h_mature + noise})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("d_mature", "h_mature", "d_holds", "h_holds"),
    [
        (5.5, 2.0, "values yes / yes; direction yes", "yes"),
        (3.0, 0.5, "values yes / no; direction yes", "no: the opposite"),
        (7.5, 1.0, "values yes / no; direction no: no difference", "no: no difference"),
        (9.0, 2.0, "values yes / no; direction no: the opposite", "yes"),
    ],
)
def test_expectation_table_reads_values_and_directions(d_mature, h_mature, d_holds, h_holds):
    table = ls.expectation_table(frame(d_mature, h_mature), "t", n_rec=32)
    assert list(table.index) == [
        "effective rank D (σ² form, the code's)",
        "response heterogeneity H",
    ]
    assert table.iloc[0]["README holds"] == d_holds
    assert table.iloc[1]["README holds"] == h_holds
    assert table.iloc[0]["target spectrum"] == "4.67 / 2.54"


def test_mean_sd_formats_each_group():
    table = ls.mean_sd(frame(5.5, 2.0), "model", ["D", "H"])
    assert table.loc["premature", "D"] == "7.5 ± 0.01"
    assert table.loc["mature", "H"] == "2 ± 0.01"


def test_each_figure_draws_on_the_axes_it_is_given(tmp_path):
    run = rb.fit(rb.lowrank_spec(maturity="mature", **SMALL), cache_dir=tmp_path, progress=False)
    spectrum = rb.recurrent_spectrum(run.model)
    trials = ls.closed_loop_trials(ModelBasedAgent(), TWO_STAGE, 20, seed=0)
    rows = pd.DataFrame([ls.signature_row(trials.conditions["action"], trials)] * 2).assign(
        model=["a", "b"]
    )
    field = rb.flow_field(run.model, n_grid=7)
    points = {"zero input": rb.subspace_fixed_points(run.model, n_initial=8)}
    states = run.model(ls.test_sessions(run.spec).inputs[:1]).states[0].detach()
    calls = [
        lambda ax: rb.plot_eval_curves({"mature": [run.history]}, per_epoch=3, chance=0.5, ax=ax),
        lambda ax: rb.plot_spectra({"mature": [spectrum, spectrum]}, ax=ax),
        lambda ax: rb.plot_stay_probabilities(rows, title="MB", ax=ax),
        lambda ax: rb.plot_stay_probabilities(rows, bars=False, ax=ax),
        lambda ax: rb.plot_by_model(rows.assign(D=[1.0, 2.0]), "D", chance=0.5, ax=ax),
        lambda ax: rb.plot_summary_table(rows, {"P_cr": "P(stay | cr)"}, models=["a", "b"], ax=ax),
        lambda ax: rb.plot_stay_coefficients(rows, ax=ax),
        lambda ax: rb.plot_flow_field(field, points=points, states=states, ax=ax),
    ]
    for call in calls:
        ax = Figure().subplots()
        assert call(ax) is ax
        assert ax.lines or ax.collections or ax.patches or ax.tables


def test_the_developmental_comparison_fits_the_books_column(tmp_path):
    runs = {m: rb.fit(rb.lowrank_spec(maturity=m, **SMALL), cache_dir=tmp_path, progress=False)
            for m in ("premature", "mature")}  # fmt: skip
    rows = pd.DataFrame([{"model": m, **ls.test_metrics(run)} for m, run in runs.items()])
    histories = {m: [run.history] for m, run in runs.items()}
    spectra = {m: [rb.recurrent_spectrum(run.model)] for m, run in runs.items()}
    fig = rb.plotting.low_rank.plot_developmental_comparison(rows, histories, spectra, per_epoch=3)
    assert len(fig.axes) == 6 and fig.axes[-1].tables  # panel F is the summary table
    assert fig.get_figwidth() <= 6.9  # the book's column, at its 110 dpi
    texts = [t for ax in fig.axes for t in ax.texts]  # the panel letters and the references
    assert len(texts) >= 6 and all(t.get_fontsize() >= 9 for t in texts)
    plt.close(fig)
