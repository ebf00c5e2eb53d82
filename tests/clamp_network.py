"""The hand-built network the clamp tests share: units 0 and 1 read channel 0 and 1, hold it
(self-excitation 1) and are the readout; units 2-5 receive input but send nothing."""

import torch

from rnnbook.models import ModelConfig, RateRNN


def two_readout_units_network() -> RateRNN:
    net = RateRNN(ModelConfig(n_in=2, n_out=2, n_rec=6, dt=20.0, tau=100.0), seed=0)
    return net.set_effective_weights(
        recurrent=torch.diag(torch.tensor([1.0, 1.0, 0, 0, 0, 0])),
        input=torch.tensor([[1.0, 0], [0, 1], [1, 0], [0, 1], [1, 1], [1, -1]]),
        readout=torch.tensor([[1.0, 0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0, 0]]),
    )
