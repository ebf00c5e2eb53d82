"""Seed 004's analyses against known answers: the SV decay fits, the spectrum, heterogeneity,
the GRU's recurrent slice, and the flow field and fixed points in the rank-r subspace."""

import math
from types import SimpleNamespace

import pytest
import torch

from rnnbook import analysis as an
from rnnbook.models import ModelConfig, RateRNN, TinyGRU
from rnnbook.training import PENALTIES

LOW_RANK = dict(n_in=3, n_out=2, dt=1.0, n_rec=16, recurrence="low_rank", tau=None, leak=0.1)


def test_the_decay_fits_recover_gamma_and_show_the_originals_bias():
    s = 2.0 * torch.exp(-0.3 * torch.arange(6.0, dtype=torch.float64))
    assert an.sv_decay_fit(s) == pytest.approx(0.3)
    padded = torch.cat([s, torch.zeros(26, dtype=torch.float64)])  # rank 6 in 32 units
    spectrum = an.recurrent_spectrum(torch.diag(padded), rank=5)
    assert spectrum.n_top == 6 and spectrum.gamma_top == pytest.approx(0.3)
    assert spectrum.gamma_all > 0.5  # the zeros drag the original's fit far above 0.3
    assert spectrum.numerical_rank == 6
    assert spectrum.frobenius_norm == pytest.approx(float(s.norm()))


def test_the_spectrum_of_equal_values_has_both_effective_ranks_equal_r(tmp_path):
    spectrum = an.recurrent_spectrum(torch.diag(torch.tensor([1.5] * 4 + [0.0] * 6)))
    assert spectrum.effective_rank == pytest.approx(4)
    assert spectrum.effective_rank_sigma == pytest.approx(4)
    assert spectrum.nuclear_norm == pytest.approx(6.0)
    loaded = an.RecurrentSpectrum.load(spectrum.save(tmp_path / "s.pt"))
    assert loaded.effective_rank == spectrum.effective_rank
    torch.testing.assert_close(loaded.singular_values, spectrum.singular_values)


def test_a_model_spectrum_fits_its_top_r_plus_1():
    model = RateRNN(ModelConfig(**LOW_RANK, rank=5, sv_decay=0.4), seed=0)
    spectrum = an.recurrent_spectrum(model)
    assert spectrum.n_top == 6 and spectrum.numerical_rank == 6
    assert spectrum.gamma_all > spectrum.gamma_top


def test_the_legacy_gru_slice_is_off_by_one_column():
    gru = TinyGRU(ModelConfig(n_in=3, n_out=2, dt=1.0, n_rec=4), seed=0)
    right = an.recurrent_matrix(gru)
    legacy = an.recurrent_matrix(gru, legacy_gru_slice=True)
    assert right.shape == (4, 4) and legacy.shape == (4, 3)
    torch.testing.assert_close(right, gru.weight_h[:, 3:].detach())
    torch.testing.assert_close(legacy, right[:, 1:])  # misses the first state column
    assert an.recurrent_spectrum(gru, legacy_gru_slice=True).singular_values.shape == (3,)


def test_the_heterogeneity_analysis_is_the_penalty_at_the_same_states():
    model = RateRNN(ModelConfig(**LOW_RANK, rank=3, activation="tanh"), seed=1)
    states = torch.randn(5, 16, generator=torch.Generator().manual_seed(0))
    result = an.response_heterogeneity(model, states)
    rollout = SimpleNamespace(states=states[:, None])
    with torch.no_grad():
        w = model.effective_weights()
        for exact, mean in ((False, result.mean_proxy), (True, result.mean_exact)):
            value = PENALTIES["heterogeneity"](
                None, rollout, None, weights=w, model=model, exact=exact
            )
            assert -float(value) == pytest.approx(mean, rel=1e-5)
    assert result.responses.shape == (5, 16) and result.proxy.shape == (5,)
    # the exact responses are alpha |f'(x')| (tanh: 1 - tanh^2), within (0, alpha]
    assert 0 < float(result.responses_exact.min()) and float(result.responses_exact.max()) <= 0.1


def test_the_flow_field_of_a_linear_low_rank_network_is_the_projected_linear_map():
    model = RateRNN(ModelConfig(**LOW_RANK, rank=2, activation="linear"), seed=2)
    field = an.flow_field(model, axes=(0, 2), extent=1.0, n_grid=5)
    q = field.basis
    w = model.effective_weights().recurrent.detach().double()
    plane = q[:, [0, 2]]
    kappa = torch.stack(torch.meshgrid(field.coords, field.coords, indexing="ij"), -1)
    # tau dkappa/dt = P^T (-x + W x) on x = P kappa (no input, no bias: offset 0)
    expected = (kappa @ plane.T @ (w - torch.eye(16, dtype=torch.float64)).T @ plane) * 0.1
    torch.testing.assert_close(field.velocity, expected, rtol=1e-4, atol=1e-6)
    assert field.offset.abs().max() == 0 and field.speed.shape == (5, 5)


def test_fixed_points_lie_on_the_invariant_plane():
    model = RateRNN(ModelConfig(**LOW_RANK, rank=1, activation="tanh"), seed=0)
    m = torch.zeros(16, 1)
    m[:8] = 1.0
    model.recurrence.m.data.copy_(m)
    model.recurrence.n.data.copy_(m / 4)  # n^T m = 2: a bistable rank-1 network
    model.recurrence.M.data.zero_()
    found = an.subspace_fixed_points(model, n_initial=16, extent=3.0, seed=0)
    assert len(found.points) == 3  # the origin (unstable) and two stable points
    assert float(found.residual.max()) < 1e-6
    a = 2.0
    for _ in range(200):  # the units of m sit at a = n^T m tanh(a) = 2 tanh(a)
        a = 2 * math.tanh(a)
    kappa = sorted(float(k) for k in found.coordinates[:, 0])  # kappa = |m| a along m
    assert kappa == pytest.approx([-math.sqrt(8) * a, 0.0, math.sqrt(8) * a], abs=1e-6)
    assert math.isclose(float(found.points.is_stable.sum()), 2)
