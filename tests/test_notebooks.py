"""The study notebooks, their presets and the book's table of contents.

The smoke runs themselves are not here: conftest.py writes tests/_smoke/<study>.ipynb and nbval
executes them in the same pytest session, after these tests (see conftest.py).
"""

from pathlib import Path

import pytest

from rnnbook import book, studies

ROOT = Path(__file__).resolve().parents[1]
SMOKE_DIR = Path(__file__).resolve().parent / "_smoke"
STUDIES = studies.list_studies(root=ROOT)
PRESETS = studies.load_presets(root=ROOT)


@pytest.mark.parametrize("name", STUDIES)
def test_every_study_has_a_smoke_preset_with_checks(name):
    entry = PRESETS.get(name) or {}
    assert "smoke" in entry, f"notebooks/presets.yaml: no smoke preset for {name!r}"
    assert entry.get("smoke_checks"), f"notebooks/presets.yaml: no smoke_checks for {name!r}"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_name_only_notebook_parameters(name):
    for preset in studies.preset_names(name, root=ROOT):
        studies.resolve_parameters(name, preset, root=ROOT)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_smoke_copy_is_written(name, smoke_errors):
    assert name not in smoke_errors, smoke_errors.get(name)
    assert (SMOKE_DIR / f"{name}.ipynb").is_file()


def test_book_studies_have_notebooks():
    for name in book.book_studies(ROOT):
        assert studies.study_path(name, root=ROOT).is_file()
