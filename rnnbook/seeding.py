"""One ``seed`` fans out to independent generators; nothing here touches the global RNGs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

_STREAMS = ("init", "task", "noise", "eval")


@dataclass(frozen=True)
class Seeds:
    """Independent integer seeds for initialisation, task sampling, noise and evaluation."""

    init: int
    task: int
    noise: int
    eval: int

    @classmethod
    def from_seed(cls, seed: int) -> Seeds:
        children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
        return cls(*(int(c.generate_state(1, dtype=np.uint64)[0] >> 1) for c in children))

    def generator(self, stream: str, device: torch.device | str = "cpu") -> torch.Generator:
        """A fresh torch generator for ``stream`` (one of init, task, noise, eval)."""
        return torch.Generator(device=device).manual_seed(getattr(self, stream))


def generator(seed: int, stream: str = "task", device: torch.device | str = "cpu"):
    """Shortcut: the generator of ``stream`` fanned out from ``seed``."""
    return Seeds.from_seed(seed).generator(stream, device)
