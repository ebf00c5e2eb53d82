"""The seed plan: one ``seed`` fans out to named, independent random streams.

    seeds = Seeds.from_seed(3)
    seeds.generator("trials")      # a fresh torch.Generator for the training trials

=============== ============================================================== ==============
stream          what draws from it                                             who
=============== ============================================================== ==============
``init``        the model's initial parameters (and its default noise stream)  ``RateRNN``
``trials``      training trials                                                ``train``
``noise``       training noise (input, recurrent)                              ``train``
``validation``  validation trials and their noise during training              ``train``
``test_trials`` the trials of every analysis (``analysis.evaluate`` & co.)      analysis
``test_noise``  the network's noise during analyses                            analysis
``units``       random selections of units (random clamp sets, initial states) analysis
``lesions``     random lesion draws (which units a random lesion removes)      analysis
=============== ============================================================== ==============

Streams come from ``numpy.random.SeedSequence(seed).spawn``: child ``i`` of a seed is the
same whatever the number of streams, so adding a stream never changes the others (the first
four keep the values they had as ``init``, ``task``, ``noise`` and ``eval``). Nothing here, or
anywhere in rnnbook, touches the global RNGs, and no caller derives a seed by arithmetic
(``seed + 1``): a second independent draw is a second stream, or ``spawn``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

STREAMS = (
    "init",
    "trials",
    "noise",
    "validation",
    "test_trials",
    "test_noise",
    "units",
    "lesions",
)


@dataclass(frozen=True)
class Seeds:
    """One integer seed per stream of ``STREAMS``, all fanned out from one ``seed``."""

    init: int
    trials: int
    noise: int
    validation: int
    test_trials: int
    test_noise: int
    units: int
    lesions: int

    @classmethod
    def from_seed(cls, seed: int) -> Seeds:
        check_seed(seed)
        children = np.random.SeedSequence(seed).spawn(len(STREAMS))
        return cls(*(int(c.generate_state(1, dtype=np.uint64)[0] >> 1) for c in children))

    def generator(self, stream: str, device: torch.device | str = "cpu") -> torch.Generator:
        """A fresh torch generator for ``stream`` (one of ``STREAMS``)."""
        if stream not in STREAMS:
            raise ValueError(f"seed stream {stream!r} is unknown: choose one of {STREAMS}")
        return torch.Generator(device=device).manual_seed(getattr(self, stream))

    def spawn(self, stream: str, n: int) -> list[torch.Generator]:
        """``n`` independent generators from ``stream`` (e.g. one per random lesion draw)."""
        children = np.random.SeedSequence(getattr(self, stream)).spawn(n)
        return [
            torch.Generator().manual_seed(int(c.generate_state(1, dtype=np.uint64)[0] >> 1))
            for c in children
        ]


assert tuple(f.name for f in fields(Seeds)) == STREAMS


def check_seed(seed, name: str = "seed") -> None:
    """Raise ValueError unless ``seed`` is a non-negative integer (bools are not seeds); the
    message calls it ``name`` (e.g. ``RunSpec.seed``)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{name} = {seed!r} is not allowed: a seed is an integer >= 0")


def generator(seed: int, stream: str, device: torch.device | str = "cpu") -> torch.Generator:
    """The generator of ``stream`` fanned out from ``seed``."""
    return Seeds.from_seed(seed).generator(stream, device)


def device_generator(generator: torch.Generator, device: torch.device | str) -> torch.Generator:
    """``generator`` itself on its own device, else a generator on ``device`` seeded from it
    (one draw), so the same seed gives the same stream on any device."""
    if generator.device == torch.device(device):
        return generator
    seed = int(torch.randint(2**62, (1,), generator=generator))
    return torch.Generator(device=device).manual_seed(seed)
