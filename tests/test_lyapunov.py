"""Known answers of the largest Lyapunov exponent (two-trajectory method)."""

import numpy as np
import pytest
import torch

import rnnbook as rb
from rnnbook.analysis.lyapunov import largest_lyapunov, lyapunov_exponent


def _linear(a: np.ndarray):
    a_t = torch.as_tensor(a, dtype=torch.float64).T
    return lambda x: x @ a_t


def _random_matrix(eigenvalues: np.ndarray, seed: int = 0) -> np.ndarray:
    """A real, non-normal matrix with the given (real) eigenvalues."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((len(eigenvalues), len(eigenvalues)))
    return basis @ np.diag(eigenvalues) @ np.linalg.inv(basis)


def test_stable_linear_system_gives_its_largest_real_part():
    rates = np.array([-0.002, -0.005, -0.01, -0.03])  # per ms: -2, -5, -10, -30 per s
    a = _random_matrix(rates)
    x0 = np.random.default_rng(1).standard_normal((3, 4))
    gen = torch.Generator().manual_seed(0)
    ly = lyapunov_exponent(
        _linear(a), x0, dt=0.5, duration_ms=5000.0, transient_ms=2000.0, generator=gen
    )
    # the Euler map's exact exponent ln(1 + dt mu) / dt, and the flow's mu: -2 per s
    exact = np.log(1 + 0.5 * rates.max()) / 0.5 * 1000
    np.testing.assert_allclose(ly.exponents, exact, rtol=2e-3)
    np.testing.assert_allclose(ly.exponent, -2.0, rtol=2e-3)
    assert ly.duration_ms == pytest.approx(5000.0)


def test_complex_pair_gives_the_real_part_of_the_euler_map():
    # eigenvalues -0.004 +- 0.02i per ms (an oscillation decaying at 4 per s) and -0.02
    a = np.array([[-0.004, -0.02, 0.0], [0.02, -0.004, 0.0], [0.0, 0.0, -0.02]])
    a = _random_matrix(np.ones(3)) @ a @ np.linalg.inv(_random_matrix(np.ones(3)))
    mu = np.linalg.eigvals(a)
    gen = torch.Generator().manual_seed(0)
    ly = lyapunov_exponent(_linear(a), np.ones((2, 3)), dt=0.5, duration_ms=20_000.0, generator=gen)
    exact = np.log(np.abs(1 + 0.5 * mu)).max() / 0.5 * 1000  # rho(I + dt A)
    np.testing.assert_allclose(ly.exponents, exact, atol=0.05)  # within 1/s of the oscillation
    assert ly.exponent == pytest.approx(-4.0, abs=0.2)


def test_renormalisation_interval_does_not_change_a_linear_answer():
    a = _random_matrix(np.array([-0.003, -0.01]), seed=3)
    gen = torch.Generator().manual_seed(0)
    every = lyapunov_exponent(
        _linear(a), np.ones((1, 2)), dt=1.0, duration_ms=4000.0, generator=gen
    )
    gen = torch.Generator().manual_seed(0)
    sparse = lyapunov_exponent(
        _linear(a), np.ones((1, 2)), dt=1.0, duration_ms=4000.0, renorm_steps=10, generator=gen
    )
    np.testing.assert_allclose(every.exponents, sparse.exponents, rtol=1e-5)


def _network(g: float, n_rec: int, seed: int = 1) -> rb.RateRNN:
    config = rb.ModelConfig(
        n_in=1,
        n_out=1,
        dt=1.0,
        n_rec=n_rec,
        tau=10.0,
        activation="tanh",
        spectral_radius=g,
        train_recurrent=False,
        bias=False,
    )
    return rb.RateRNN(config, seed=seed)


def test_chaotic_random_network_has_a_positive_exponent():
    # g = 3, N = 400: deep in the chaotic regime of Sompolinsky et al. (1988)
    ly = largest_lyapunov(_network(3.0, 400), n_starts=2, duration_ms=1000.0, transient_ms=200.0)
    assert (ly.exponents > 5 * ly.resolution).all()  # > 5 per s, against 1 per s resolution


def test_subcritical_random_network_decays_at_its_linear_rate():
    model = _network(0.5, 200)
    ly = largest_lyapunov(model, n_starts=2, duration_ms=2000.0, transient_ms=500.0)
    assert (ly.exponents < 0).all()
    # at rest (x = 0) the Euler map is I + alpha (g W - I): its spectral radius gives the rate
    w = model.effective_weights().recurrent.double().numpy()
    exact = np.log(np.abs(1 + 0.1 * (np.linalg.eigvals(w) - 1))).max() / 1.0 * 1000
    np.testing.assert_allclose(ly.exponents, exact, rtol=0.02)


def test_model_is_unchanged_and_result_reproducible():
    model = _network(1.5, 32)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    a = largest_lyapunov(model, n_starts=2, duration_ms=200.0, transient_ms=50.0, seed=4)
    b = largest_lyapunov(model, n_starts=2, duration_ms=200.0, transient_ms=50.0, seed=4)
    np.testing.assert_array_equal(a.exponents, b.exponents)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert next(model.parameters()).dtype == torch.float32


@pytest.mark.parametrize(
    "kwargs",
    [{"dt": 0.0}, {"duration_ms": 0.0}, {"transient_ms": -1.0}, {"renorm_steps": 0}, {"d0": 0.1}],
)
def test_bad_arguments(kwargs):
    args = {"dt": 1.0, "duration_ms": 10.0} | kwargs
    with pytest.raises(ValueError):
        lyapunov_exponent(_linear(-np.eye(2) * 0.01), np.ones((1, 2)), **args)


def test_diverging_dynamics_are_reported():
    with pytest.raises(FloatingPointError):
        lyapunov_exponent(_linear(np.eye(2) * 10.0), np.ones((1, 2)), dt=1.0, duration_ms=1e5)


def test_a_list_of_models_gives_each_its_own_answer():
    models = [_network(0.5, 50, seed=1), _network(3.0, 50, seed=2)]
    kwargs = {"n_starts": 2, "duration_ms": 300.0, "transient_ms": 100.0, "seed": 5}
    together = largest_lyapunov(models, **kwargs)
    alone = [largest_lyapunov(m, **kwargs) for m in models]
    assert len(together) == 2
    for a, b in zip(together, alone, strict=True):
        np.testing.assert_allclose(a.exponents, b.exponents, rtol=1e-9)
        assert a.exponents.shape == (2,)
    with pytest.raises(ValueError, match="differ"):
        largest_lyapunov([_network(1.5, 10), _network(1.5, 12)])
