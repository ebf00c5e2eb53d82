"""PsychRNN's networks as rnnbook models.

``to_rate_rnn`` loads the weights of a trained PsychRNN ``Basic`` network into a
:class:`~rnnbook.models.RateRNN`: both integrate ``x_{t+1} = (1 - alpha) x_t + alpha (W_rec
relu(x_t) + W_in u_t + b_rec) + sqrt(2 alpha) sigma_rec xi_t`` and read ``W_out relu(x) + b_out``,
so rnnbook's analyses (noise switched off, lesions, fixed points) apply to PsychRNN's networks;
``rnnbook.analysis.evaluate_on`` runs it, like any rnnbook model, on given trials.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from rnnbook.models import ModelConfig, RateRNN


def to_rate_rnn(
    weights: dict[str, np.ndarray], model_config: ModelConfig, *, sigma_rec: float | None = None
) -> tuple[RateRNN, torch.Tensor]:
    """A trained PsychRNN network as a :class:`~rnnbook.models.RateRNN`, and its trained
    initial state ``h0 [1, n_rec]``: ``model(inputs, h0)`` runs PsychRNN's equations.

    ``weights``: ``PsychRNNRun.weights``; ``model_config``: the config it was trained with.
    The model holds PsychRNN's effective weights (after its connectivity masks), so it
    reproduces PsychRNN's outputs to float32 rounding when noise is off.
    ``sigma_rec``: the recurrent noise of the returned model (default: the trained one's).
    """
    w = weights
    noise = model_config.sigma_rec if sigma_rec is None else sigma_rec
    model = RateRNN(dataclasses.replace(model_config, sigma_rec=noise))
    model.set_effective_weights(
        recurrent=w["W_rec"],  # [n_rec (post), n_rec (pre)], as PsychRNN's
        input=w["W_in"],  # [n_rec, n_in]
        readout=w["W_out"],  # [n_out, n_rec]
        bias=w["b_rec"],
        readout_bias=w["b_out"],
    )
    return model, torch.as_tensor(w["init_state"], dtype=torch.float32)
