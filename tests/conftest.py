"""Notebook tests: every study in notebooks/presets.yaml runs on its smoke preset through nbval.

How nbval collection works here (nbval 0.11, pytest >= 8):

- pyproject.toml's ``addopts`` passes ``--nbval-lax --nbval-current-env``. With these flags
  nbval's own ``pytest_collect_file`` hook collects every ``*.ipynb`` that pytest reaches as one
  test per code cell; ``lax`` means outputs are not compared (only errors fail, plus cells
  marked ``# NBVAL_CHECK_OUTPUT``); ``current-env`` runs each notebook in a kernel of this
  Python environment rather than the kernel named in the notebook.
- ``testpaths = ["tests"]`` and ``pytest_ignore_collect`` below restrict that to
  ``tests/_smoke/*.ipynb`` (gitignored).
- ``pytest_configure`` writes those files before collection: for each study, papermill injects
  the smoke parameters without executing, and a last cell checks the ``smoke_checks`` bounds
  of the study's records (``rnnbook.studies.smoke_notebook``).
- nbval's kernel starts in ``tests/_smoke`` and inherits this process's environment, in which
  ``RNNBOOK_CACHE`` points to a fresh temporary directory: the smoke runs really train.
- ``pytest_collection_modifyitems`` moves the notebook cells after the unit tests, and the
  browser tests of the book (``tests/test_book_browser.py``) after the notebook cells.
- ``pytest_runtest_call`` keeps what each notebook cell output in nbval's own copy of the
  notebook, so that once a smoke copy has run, ``executed_smoke_notebooks`` holds it as an
  executed notebook: the browser tests build the book from these, so every study is executed
  once per session, not twice.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from rnnbook import studies

TESTS_DIR = Path(__file__).resolve().parent
SMOKE_DIR = TESTS_DIR / "_smoke"
ROOT = TESTS_DIR.parent

# study name -> why its smoke copy could not be written (test_notebooks.py reports it)
SMOKE_ERRORS = pytest.StashKey[dict[str, str]]()
# study name -> [nbval's notebook with the outputs of the cells run so far, failed cell or None]
EXECUTED = pytest.StashKey[dict[str, list]]()
BROWSER_TESTS = "test_book_browser.py"
_CACHE = pytest.StashKey[tuple[str, str | None]]()  # (temporary cache, previous RNNBOOK_CACHE)


def pytest_configure(config: pytest.Config) -> None:
    cache = tempfile.mkdtemp(prefix="rnnbook-test-cache-")
    config.stash[_CACHE] = (cache, os.environ.get("RNNBOOK_CACHE"))
    os.environ["RNNBOOK_CACHE"] = cache
    config.stash[SMOKE_ERRORS] = write_smoke_notebooks()
    config.stash[EXECUTED] = {}


def pytest_unconfigure(config: pytest.Config) -> None:
    if _CACHE not in config.stash:
        return
    cache, previous = config.stash[_CACHE]
    shutil.rmtree(cache, ignore_errors=True)
    if previous is None:
        os.environ.pop("RNNBOOK_CACHE", None)
    else:
        os.environ["RNNBOOK_CACHE"] = previous


def write_smoke_notebooks() -> dict[str, str]:
    """Rewrite tests/_smoke/ with one smoke copy per study of notebooks/presets.yaml; return
    study name -> error for those that could not be written."""
    SMOKE_DIR.mkdir(exist_ok=True)
    for stale in SMOKE_DIR.glob("*.ipynb"):
        stale.unlink()
    errors = {}
    for name in studies.load_presets(root=ROOT):
        try:
            studies.smoke_notebook(name, SMOKE_DIR, root=ROOT)
        except Exception as error:  # reported by a failing test, not a crash of the session
            errors[name] = f"{type(error).__name__}: {error}"
    return errors


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.suffix == ".ipynb" and collection_path.parent != SMOKE_DIR:
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    notebook_cells = [item for item in items if SMOKE_DIR in item.path.parents]
    browser = [item for item in items if item.path.name == BROWSER_TESTS]
    unit_tests = [item for item in items if item not in notebook_cells and item not in browser]
    items[:] = unit_tests + notebook_cells + browser


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """After nbval runs a smoke copy's cell, store its outputs in nbval's notebook."""
    outcome = yield
    outputs = getattr(item, "test_outputs", None)
    if SMOKE_DIR not in item.path.parents or outputs is None:
        return
    import nbformat

    executed = item.config.stash[EXECUTED].setdefault(item.path.stem, [item.parent.nb, None])
    count = 1 + sum(c.get("execution_count") is not None for c in item.parent.nb.cells)
    item.cell.outputs = [nbformat.from_dict(dict(output)) for output in outputs]
    from IPython.core.displayhook import DisplayHook

    if DisplayHook.semicolon_at_end_of_expression(item.cell.source):
        # IPython hides the value of a cell ending in ';' by looking the cell up in its input
        # history, which nbval's executions do not enter: drop it here, as a kernel run does
        item.cell.outputs = [o for o in item.cell.outputs if o.output_type != "execute_result"]
    item.cell.execution_count = count
    for output in item.cell.outputs:
        if output.output_type == "execute_result":
            output.execution_count = count
    if outcome.excinfo is not None and executed[1] is None:
        executed[1] = item.name


@pytest.fixture(scope="session")
def executed_smoke_notebooks(pytestconfig: pytest.Config) -> dict[str, list]:
    """Study name -> [executed smoke notebook (nbformat), name of its first failed cell or
    None], for the smoke copies nbval ran in this session (empty if none ran)."""
    return pytestconfig.stash.get(EXECUTED, {})


@pytest.fixture
def smoke_errors(pytestconfig: pytest.Config) -> dict[str, str]:
    """Study name -> why its smoke copy could not be written."""
    return pytestconfig.stash.get(SMOKE_ERRORS, {})


# Hypothesis (tests/test_config_fuzz.py): reproducible runs, no example database, no deadline
# (the first examples pay for imports and warm-up), 500 examples per property.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "rnnbook",
    deadline=None,
    database=None,
    derandomize=True,
    max_examples=500,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("rnnbook")
