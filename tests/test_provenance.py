"""rnnbook.provenance: the run counts, durations and record formatting of a page's footer."""

import pytest

from rnnbook import provenance


@pytest.fixture(autouse=True)
def fresh_counts(monkeypatch):
    monkeypatch.setattr(provenance, "_RUNS", {})


def test_runs_are_counted_once_and_trained_wins():
    provenance.note_run("a", trained=False)
    provenance.note_run("a", trained=True)
    provenance.note_run("a", trained=False)  # loaded again after training: still trained here
    provenance.note_run("b", trained=False)
    summary = provenance.execution_summary()
    assert (summary.trained, summary.cached) == (1, 1)
    assert summary.seconds > 0 and summary.cores >= 1 and summary.threads >= 1


@pytest.mark.parametrize(
    "seconds, text", [(4.4, "4 s"), (59.6, "1 min 00 s"), (185, "3 min 05 s"), (3725, "1 h 02 min")]
)
def test_format_duration(seconds, text):
    assert provenance.format_duration(seconds) == text


def test_records_are_shown_rounded_and_escaped():
    table = provenance.records_html({"acc": 0.912345678, "n": 12, "label": "<b>"})
    assert "0.9123" in table and "0.912345678" not in table
    assert "<td>12</td>" in table and "&lt;b&gt;" in table
    assert table.startswith('<details class="rnnbook-records">') and "(3)" in table


def test_fit_counts_a_trained_then_a_cached_run(tmp_path):
    import rnnbook as rb

    task = rb.PerceptualDecision(rb.PerceptualDecisionConfig())
    spec = rb.RunSpec(
        task.name, task.config, rb.ModelConfig(n_rec=4), rb.TrainConfig(n_steps=2, batch_size=4), 0
    )
    rb.fit(spec, cache_dir=tmp_path, progress=False)
    rb.fit(spec, cache_dir=tmp_path, progress=False)
    summary = provenance.execution_summary()
    assert (summary.trained, summary.cached) == (1, 0)
    provenance._RUNS.clear()
    rb.fit(spec, cache_dir=tmp_path, progress=False)
    assert provenance.execution_summary().cached == 1
