"""rnnbook.studies, rnnbook.records and the CLI, on a tiny throwaway study in a temporary root."""

import json
import math

import nbformat
import pytest

from rnnbook import book, cli, studies
from rnnbook.records import check_records, read_records

KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
RAISE = 'if scale < 0:\n    raise ValueError(f"scale = {scale} is out of range: allowed >= 0")'
PRESETS = """\
tiny:
  smoke:
    scale: 0.5
  paper:
    scale: 4.0
  smoke_checks:
    value: [0.5, 2.0]
"""


@pytest.fixture
def root(tmp_path):
    """A repository root holding notebooks/tiny.ipynb and notebooks/presets.yaml."""
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# A tiny study"),
            nbformat.v4.new_code_cell("seed = 0\nscale = 1.0", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell('import rnnbook\n\nrnnbook.record("value", scale * 2)'),
            nbformat.v4.new_code_cell(RAISE),
        ],
        metadata={"kernelspec": KERNEL},
    )
    (tmp_path / "notebooks").mkdir()
    nbformat.write(notebook, tmp_path / "notebooks" / "tiny.ipynb")
    (tmp_path / "notebooks" / "presets.yaml").write_text(PRESETS)
    return tmp_path


def test_notebook_parameters_are_the_parameters_cell(root):
    assert studies.notebook_parameters("tiny", root=root) == {"seed": 0, "scale": 1.0}
    assert studies.list_studies(root=root) == ["tiny"]


def test_resolve_parameters_applies_preset_then_overrides(root):
    assert studies.resolve_parameters("tiny", root=root) == {"seed": 0, "scale": 1.0}
    assert studies.resolve_parameters("tiny", "book", root=root) == {"seed": 0, "scale": 1.0}
    resolved = studies.resolve_parameters("tiny", "smoke", {"seed": 3}, root=root)
    assert resolved == {"seed": 3, "scale": 0.5}


def test_unknown_parameter_is_named_with_the_allowed_ones(root):
    with pytest.raises(ValueError, match=r"'sclae'.*allowed are seed, scale"):
        studies.resolve_parameters("tiny", overrides={"sclae": 2.0}, root=root)


def test_unknown_preset_names_the_allowed_ones(root):
    with pytest.raises(ValueError, match="'huge'.*allowed are book, smoke, paper"):
        studies.resolve_parameters("tiny", "huge", root=root)


def test_unknown_study_is_refused(root):
    with pytest.raises(ValueError, match="unknown study 'nope': available studies are tiny"):
        studies.resolve_parameters("nope", root=root)


def test_preset_with_unknown_parameter_is_refused(root):
    (root / "notebooks" / "presets.yaml").write_text("tiny:\n  smoke:\n    n_steps: 4\n")
    with pytest.raises(ValueError, match=r"'n_steps' \(from preset 'smoke'"):
        studies.resolve_parameters("tiny", "smoke", root=root)


def test_run_study_records_the_value(root):
    output = studies.run_study("tiny", preset="smoke", parameters={"scale": 1.5}, root=root)
    assert output == root / "_build" / "runs" / "tiny-smoke.ipynb"
    assert read_records(output) == {"value": 3.0}
    assert not list(output.parent.glob(".*partial*"))


def test_failing_cell_raises_the_notebook_exception_line(root):
    output = root / "out" / "tiny.ipynb"
    with pytest.raises(studies.StudyError) as error:
        studies.run_study("tiny", parameters={"scale": -1.0}, output=output, root=root)
    assert "ValueError: scale = -1.0 is out of range: allowed >= 0" in str(error.value)
    assert len(str(error.value).splitlines()) == 1
    assert not output.exists() and output.with_suffix(".failed.ipynb").exists()


def test_smoke_notebook_injects_parameters_and_checks(root):
    path = studies.smoke_notebook("tiny", root / "smoke", root=root)
    cells = nbformat.read(path, as_version=4).cells
    injected = [c for c in cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "scale = 0.5" in injected[0].source
    assert cells[-1].source.endswith("check_records({'value': [0.5, 2.0]})")


def test_book_study_is_executed_only_when_something_changed(root, monkeypatch):
    runs = []

    def fake_run(name, *, output, **kwargs):
        runs.append(name)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("{}")
        return output

    monkeypatch.setattr(book, "run_study", fake_run)
    assert book.execute_book_study("tiny", root) is True
    assert book.execute_book_study("tiny", root) is False
    (root / "notebooks" / "presets.yaml").write_text(PRESETS.replace("4.0", "5.0"))
    assert book.execute_book_study("tiny", root) is True
    (root / "book" / "studies" / "tiny.ipynb").unlink()
    assert book.execute_book_study("tiny", root) is True
    assert runs == ["tiny"] * 3
    assert (root / "book" / "studies" / ".tiny.sha256").is_file()


def test_book_studies_come_from_the_toc(root):
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n"
        "  - caption: A\n    chapters:\n      - file: book/studies/tiny\n      - file: book/other\n"
    )
    assert book.book_studies(root) == ["tiny"]


def test_build_book_fails_with_the_exit_status_of_jupyter_book(root, monkeypatch):
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    (root / "book").mkdir()
    (root / "book" / "overview.yaml").write_text("{}\n")  # no studies: an empty overview
    fake = root / "jupyter-book"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(book, "jupyter_book_command", lambda: str(fake))
    with pytest.raises(book.BookBuildError) as error:
        book.build_book(root)
    assert error.value.returncode == 3


def test_check_records_names_every_problem():
    records = {"ok": 0.7, "low": 0.1, "bad": math.nan, "text": "abc"}
    expect = {"ok": [0.5, 1.0], "low": [0.5, 1.0], "bad": [0, 1], "text": [0, 1], "gone": [0, 1]}
    with pytest.raises(AssertionError) as error:
        check_records(expect, records)
    message = str(error.value)
    for part in ["'low' = 0.1 is outside [0.5, 1.0]", "'bad' = nan", "'text'", "'gone' is missing"]:
        assert part in message
    assert "record 'ok'" not in message


@pytest.mark.parametrize(
    "text, value",
    [
        ("3", 3),
        ("0.1", 0.1),
        ("1e-3", 1e-3),
        ("[0.1, 0.2]", [0.1, 0.2]),
        ("true", True),
        ("a", "a"),
    ],
)
def test_cli_values_are_read_as_yaml(text, value):
    assert cli.parse_value(text) == value and type(cli.parse_value(text)) is type(value)


def test_cli_refuses_an_unknown_parameter_with_one_line(root, monkeypatch, capsys):
    monkeypatch.setenv("RNNBOOK_ROOT", str(root))
    assert cli.main(["run", "tiny", "-p", "sclae", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'sclae'" in err and "seed, scale" in err


def test_cli_runs_a_study_and_prints_its_records(root, monkeypatch, capsys):
    monkeypatch.setenv("RNNBOOK_ROOT", str(root))
    output = root / "run.ipynb"
    assert cli.main(["run", "tiny", "--preset", "paper", "-p", "seed", "3", "-o", str(output)]) == 0
    assert "value = 8.0" in capsys.readouterr().out
    parameters = json.loads(output.read_text())["metadata"]["papermill"]["parameters"]
    assert parameters == {"scale": 4.0, "seed": 3}


def test_an_executed_study_ends_with_its_records_and_what_the_run_cost(root):
    output = studies.run_study("tiny", preset="paper", output=root / "run.ipynb", root=root)
    footer = [
        c for c in nbformat.read(output, 4).cells if "rnnbook-footer" in c.metadata.get("tags", [])
    ]
    assert len(footer) == 2 and all("remove-input" in c.metadata.tags for c in footer)
    table = footer[0].outputs[0]["data"]["text/html"]
    assert 'class="rnnbook-records"' in table and "<code>value</code></td><td>8</td>" in table
    cost = footer[1].outputs[0]["data"]["text/markdown"]
    assert "`paper` preset" in cost and "trained 0 networks and loaded 0" in cost
    assert "rnnbook run tiny --preset smoke" in cost


def test_the_smoke_copy_carries_the_footer_before_its_checks(root, tmp_path):
    path = studies.smoke_notebook("tiny", tmp_path / "smoke", root=root)
    tags = [c.metadata.get("tags", []) for c in nbformat.read(path, 4).cells]
    assert ["remove-input", "rnnbook-footer"] in tags[-3:-1] and tags[-1] == ["smoke_checks"]
