"""The working-memory page's trials and readouts (``rnnbook.wm_studies``) against known answers:
the seed's sizes in ``vwm_spec``, identical SNR repetitions, linear superposition in the
divisive-normalisation trials of a linear network, and its one fixed point at zero input."""

import numpy as np
import pytest
import torch

import rnnbook as rb
from rnnbook import wm_studies
from rnnbook.models import ModelConfig, RateRNN
from rnnbook.tasks import DelayedEstimation, DelayedEstimationConfig

TASK = DelayedEstimation(
    DelayedEstimationConfig(
        dt=20.0, stimulus_ms=100.0, delay_ms=100.0, decode_ms=100.0, n_slots=3, set_sizes=(1, 2, 3)
    )
)


def linear_network(**changes):
    """A linear, bias-free, noise-free rate network: its rates are linear in its inputs."""
    config = dict(n_rec=12, activation="linear", bias=False, spectral_radius=0.5, tau=50.0)
    return RateRNN(ModelConfig(**{**config, **changes}).for_task(TASK), seed=0)


def test_vwm_spec_defaults_are_the_seeds_sizes():
    spec = rb.vwm_spec()
    model, train, task = spec.model_config, spec.train_config, spec.task_config
    assert (model.n_rec, model.e_frac, model.recurrence, model.tau) == (
        256,
        0.5,
        "dale",
        (50.0, 300.0),
    )
    assert model.sort_taus and model.activation == "saturating" and model.rate_max == 60.0
    assert (model.input_weights, model.noise, model.spike_noise_factor) == (
        "nonnegative",
        "spike_gamma",
        0.05,
    )
    assert (task.n_slots, task.set_sizes, task.dt, task.encoding) == (
        10,
        tuple(range(1, 11)),
        10.0,
        "positive",
    )
    assert (train.n_steps, train.batch_size, train.lr, train.loss) == (50_000, 512, 1e-4, "l2")
    assert (train.lr_plateau_factor, train.lr_plateau_patience, train.early_stop_patience) == (
        0.5,
        400,
        600,
    )
    assert [(p.name, p.weight) for p in train.penalties] == [("rate_l1", 1e-5)]


def test_snr_trials_repeat_one_trial_so_a_noise_free_network_has_no_noise():
    model = linear_network()
    readouts = wm_studies.snr_readouts(
        model, TASK, [1, 3], n_repetitions=4, generator=torch.Generator().manual_seed(0)
    )
    assert [r.shape for r in readouts] == [(4, 5, 2), (4, 5, 2)]  # 100 ms decode at 20 ms
    for r in readouts:
        np.testing.assert_allclose(r, np.broadcast_to(r[:1], r.shape))
    assert not np.allclose(readouts[0], readouts[1])  # other items change slot 0's readout


def test_snr_trials_refuse_a_set_size_beyond_the_slots():
    with pytest.raises(ValueError, match="want set sizes in \\[1, n_slots = 3\\]"):
        wm_studies.snr_readouts(
            linear_network(), TASK, [4], n_repetitions=2, generator=torch.Generator()
        )


def test_a_linear_network_sums_two_items_linearly():
    rates = wm_studies.dn_rates(
        linear_network(), TASK, 6, generator=torch.Generator().manual_seed(1)
    )
    r1, r2, r12 = rates
    np.testing.assert_allclose(r12, r1 + r2, atol=1e-4)
    result = rb.divisive_normalisation(r1, r2, r12)
    np.testing.assert_allclose(result.w1, 1.0, atol=1e-3)
    np.testing.assert_allclose(result.w2, 1.0, atol=1e-3)


def test_a_stable_linear_network_has_one_fixed_point_at_zero_in_the_delay():
    points, trials, rollout = wm_studies.delay_fixed_points(
        linear_network(), TASK, n_angles=6, n_starts=16, generator=torch.Generator().manual_seed(2)
    )
    assert len(points) == 1 and bool(points.is_stable[0])
    assert points.x.abs().max() < 1e-4
    assert trials.conditions["presence"][:, 0].all() and trials.conditions["set_size"].eq(1).all()
    angles = trials.conditions["angles"][:, 0]
    torch.testing.assert_close(angles.diff(), torch.full((5,), 2 * np.pi / 6))
    assert rollout.states.shape[:2] == trials.inputs.shape[:2]


def test_decoded_angles_and_decode_rates_read_the_decode_window():
    model = linear_network()
    trials = rb.sample_trials(TASK, 8, seed=0)
    decoded, rollout = wm_studies.decoded_angles(model, trials, generator=torch.Generator())
    window = trials.periods["decode"][0]
    outputs = rollout.outputs[:, window].reshape(8, -1, 3, 2).mean(1).numpy()
    np.testing.assert_allclose(decoded, np.arctan2(outputs[..., 1], outputs[..., 0]), atol=1e-6)
    rates = wm_studies.decode_rates(rollout, trials)
    np.testing.assert_allclose(rates, rollout.rates[:, window].mean(1).numpy(), rtol=1e-6)


def test_the_mixture_fit_figure_and_fixed_point_kinds_draw_in_the_books_column():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from rnnbook.plotting import working_memory as wm_plots

    columns = [c for _, group in wm_plots.FIT_PANELS for c in group]
    fits = pd.DataFrame([{"seed": s, "set size": n, **{c: 0.5 for c in columns}, "ZL w se": 0.1}
                         for s in (0, 1) for n in (1, 2, 4)])  # fmt: skip
    fig = wm_plots.plot_mixture_fits(fits, [1, 2, 4])
    assert fig.get_figwidth() <= 6.9 and len(fig.axes) == 4
    assert fig.axes[3].get_legend() is not None  # the fourth panel holds the legend
    plt.close(fig)
    ax = wm_plots.scatter_fixed_points([[0, 0], [1, 1], [2, 2]], ["stable", "marginal", "stable"])
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["stable fixed point", "marginal fixed point"]  # each kind once
    plt.close(ax.figure)
    # no angle is drawn near-white: every colour of the cyclic map is at most 80 % bright
    assert wm_plots.ANGLE_CMAP(np.linspace(0, 1, 64))[:, :3].max() <= 0.8 + 1e-9
