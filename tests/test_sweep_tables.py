"""Sweep tables per cell (rnnbook.sweep_tables): means and SDs over the finished runs, criteria
never reached, and the book's reading of a difference against the seed-to-seed spread."""

import numpy as np
import pandas as pd
import pytest

import rnnbook as rb

TABLE = pd.DataFrame(
    {
        "variant": ["ctl", "ctl", "big", "big", "same", "same", "one", "one"],
        "optimizer": ["GD"] * 8,
        "status": ["trained"] * 7 + ["failed"],
        "accuracy": [0.60, 0.70, 0.90, 0.92, 0.62, 0.70, 0.50, np.nan],
        "steps": [100.0, np.inf, 40.0, 60.0, 90.0, 110.0, 70.0, np.nan],
    }
)


def test_cells_summarise_the_finished_runs():
    summary = rb.summarise_cells(TABLE, ["variant", "optimizer"], "accuracy", steps="steps")
    assert list(summary.index.get_level_values("variant")) == ["ctl", "big", "same", "one"]
    ctl, one = summary.loc[("ctl", "GD")], summary.loc[("one", "GD")]
    assert ctl["mean"] == pytest.approx(0.65) and ctl["sd"] == pytest.approx(
        np.std([0.6, 0.7], ddof=1)
    )
    assert ctl["steps"] == 100.0 and ctl["reached"] == "1/2"  # the infinite run did not reach
    assert one["n"] == 1 and one["failed"] == 1 and np.isnan(one["sd"])
    with pytest.raises(ValueError, match="no column 'nope'"):
        rb.summarise_cells(TABLE, "nope", "accuracy")


def test_a_difference_is_an_effect_only_beyond_twice_the_larger_sd():
    summary = rb.summarise_cells(TABLE, ["variant", "optimizer"], "accuracy")
    effects = rb.compare_to_reference(summary, "ctl", level="variant")
    assert list(effects.index.get_level_values("variant")) == ["big", "same", "one"]
    big, same, one = (effects.loc[(v, "GD")] for v in ("big", "same", "one"))
    assert big.difference == pytest.approx(0.26) and big.reading == "effect"
    assert same.difference == pytest.approx(0.01) and same.reading == "within the spread"
    assert same.spread == pytest.approx(2 * np.std([0.6, 0.7], ddof=1))
    assert one.reading == "too few runs"  # one finished run: no spread, no effect read
    with pytest.raises(ValueError, match="no cell with variant = 'x'"):
        rb.compare_to_reference(summary, "x", level="variant")
