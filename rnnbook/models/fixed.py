"""Fixed weights: a module's parameters become buffers (kept, moved with ``.to``, never trained)."""

from __future__ import annotations

from torch import nn


def freeze(module: nn.Module) -> nn.Module:
    """Turn each parameter of ``module`` (not its children) into a buffer of the same name.

    ``effective_weight()`` and state-dict keys are unchanged; the optimiser never sees them.
    """
    for name, param in list(module.named_parameters(recurse=False)):
        delattr(module, name)
        module.register_buffer(name, param.detach().clone())
    return module
