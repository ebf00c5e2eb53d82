"""The registries of model parts, by the ``ModelConfig`` field that names each.

A new part is one module and one entry in its registry; ``RateRNN`` assembles whatever the
config names, with no per-feature branches.
"""

from __future__ import annotations

from rnnbook.models.dale import DaleRecurrence
from rnnbook.models.gating import GATES
from rnnbook.models.init import INIT_NORMS, INITS
from rnnbook.models.low_rank import LowRankRecurrence
from rnnbook.models.noise import NOISES
from rnnbook.models.rates import RATE_FUNCTIONS
from rnnbook.models.recurrence import DenseRecurrence
from rnnbook.models.time_constants import TIME_CONSTANTS
from rnnbook.models.weights import INPUT_WEIGHTS, READOUT_WEIGHTS

RECURRENCES = {"dense": DenseRecurrence, "dale": DaleRecurrence, "low_rank": LowRankRecurrence}

PARTS = {
    "recurrence": RECURRENCES,
    "time_constants": TIME_CONSTANTS,
    "activation": RATE_FUNCTIONS,
    "input_weights": INPUT_WEIGHTS,
    "readout_weights": READOUT_WEIGHTS,
    "noise": NOISES,
    "gate": GATES,
    "init": INITS,
    "init_norm": INIT_NORMS,
}
