"""The book's one matplotlib style, and one colour per training regime across all figures."""

from __future__ import annotations

import zlib
from pathlib import Path

import matplotlib.style

STYLE_PATH = Path(__file__).with_name("rnnbook.mplstyle")

# Okabe-Ito colours (colour-blind safe), the same as the style's colour cycle.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999")

# One colour per regime name, shared by every figure; other names get a stable palette colour.
REGIME_COLORS: dict[str, str] = {
    "baseline": "#333333",
    "intact": "#333333",
    "noisy": "#0072B2",
    "curriculum": "#D55E00",
    "gating": "#009E73",
    "acg": "#CC79A7",
    "dale": "#E69F00",
    "vanilla": "#56B4E9",
    "lesioned": "#D55E00",
    "clamped": "#CC79A7",
    "gd": "#0072B2",
    "eg": "#D55E00",
    "mature": "#009E73",
    "premature": "#CC79A7",
    "gru": "#999999",
    "gru_fast": "#E69F00",
    "rw_agent": "#000000",
    "psychrnn": "#56B4E9",
}


def use_style() -> None:
    """Apply the book's style (``rnnbook.mplstyle``) to every figure made from now on."""
    matplotlib.style.use(STYLE_PATH)


def color_for(name: str) -> str:
    """The colour of regime ``name``: from ``REGIME_COLORS`` (case and '-'/' ' insensitive),
    else a palette colour chosen by a stable hash of the name (the same in every session)."""
    key = _normalise(name)
    if key in REGIME_COLORS:
        return REGIME_COLORS[key]
    return PALETTE[zlib.crc32(key.encode()) % len(PALETTE)]


def colors_for(names) -> list[str]:
    """Colours for the curves of one figure: known regimes keep their colour; other names take
    the palette colours not yet used in this figure, in order (so they never collide)."""
    keys = [_normalise(n) for n in names]
    taken = {REGIME_COLORS[k] for k in keys if k in REGIME_COLORS}
    free = [c for c in PALETTE if c not in taken] or list(PALETTE)
    out, i = [], 0
    for key in keys:
        if key in REGIME_COLORS:
            out.append(REGIME_COLORS[key])
        else:
            out.append(free[i % len(free)])
            i += 1
    return out


def _normalise(name: str) -> str:
    return str(name).strip().lower().replace("-", "_").replace(" ", "_")


def axes_or_new(ax):
    """``ax`` itself, or the Axes of a new figure when ``ax`` is None (never the current Axes)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots()[1]
