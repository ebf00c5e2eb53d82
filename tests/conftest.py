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
- ``pytest_collection_modifyitems`` moves the notebook cells after the unit tests.
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
_CACHE = pytest.StashKey[tuple[str, str | None]]()  # (temporary cache, previous RNNBOOK_CACHE)


def pytest_configure(config: pytest.Config) -> None:
    cache = tempfile.mkdtemp(prefix="rnnbook-test-cache-")
    config.stash[_CACHE] = (cache, os.environ.get("RNNBOOK_CACHE"))
    os.environ["RNNBOOK_CACHE"] = cache
    config.stash[SMOKE_ERRORS] = write_smoke_notebooks()


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
    unit_tests = [item for item in items if SMOKE_DIR not in item.path.parents]
    items[:] = unit_tests + notebook_cells


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
