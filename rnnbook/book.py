"""The book: the executed studies of ``_toc.yml`` and ``jupyter-book build``.

``build_book`` executes each study of ``_toc.yml`` whose notebook, presets entry or package
code changed since its last execution (``book_study_is_current``: the stamp beside
``book/studies/<name>.ipynb`` holds ``rnnbook.studies.study_digest``), writes the results
overview (``rnnbook.overview``) and runs ``jupyter-book build -W -n --keep-going``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from rnnbook.atomic import write_replacing
from rnnbook.studies import run_study, study_digest, study_path


class BookBuildError(RuntimeError):
    """``jupyter-book build`` failed; ``returncode`` is its exit status."""

    def __init__(self, message: str, returncode: int):
        super().__init__(message)
        self.returncode = returncode


STUDIES_DIR = Path("book") / "studies"  # executed notebooks, generated; cited by _toc.yml


def book_studies(root: str | Path = ".") -> list[str]:
    """The studies whose executed notebooks ``_toc.yml`` lists under ``book/studies/``."""
    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text(encoding="utf-8"))
    prefix = STUDIES_DIR.as_posix() + "/"
    return [Path(f).stem for f in toc_files(toc) if f.startswith(prefix)]


def toc_files(node: object) -> list[str]:
    if isinstance(node, list):
        return [f for item in node for f in toc_files(item)]
    if not isinstance(node, dict):
        return []
    own = [str(node["file"])] if "file" in node else []
    return own + [f for value in node.values() for f in toc_files(value)]


def _book_output(name: str, root: Path) -> tuple[Path, Path]:
    output = root / STUDIES_DIR / f"{name}.ipynb"
    return output, output.with_name(f".{name}.sha256")


def book_study_is_current(name: str, root: str | Path = ".") -> bool:
    """True if ``book/studies/<name>.ipynb`` exists and its stamp ``.<name>.sha256`` matches
    ``study_digest``."""
    root = Path(root).resolve()
    output, stamp = _book_output(name, root)
    return (
        output.is_file()
        and stamp.is_file()
        and stamp.read_text().strip() == study_digest(name, root=root)
    )


def execute_book_study(name: str, root: str | Path = ".") -> bool:
    """Execute a study on its book defaults into ``book/studies/<name>.ipynb``, then write its
    stamp, unless ``book_study_is_current``. True if it was executed."""
    root = Path(root).resolve()
    if book_study_is_current(name, root):
        return False
    output, stamp = _book_output(name, root)
    digest = study_digest(name, root=root)  # taken before the run: a change during it re-runs
    run_study(name, output=output, cwd=root, root=root)
    write_replacing(stamp, digest + "\n")
    return True


def jupyter_book_command() -> str:
    """The ``jupyter-book`` next to this Python (the virtualenv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "jupyter-book"
    if beside.is_file():
        return str(beside)
    import shutil

    found = shutil.which("jupyter-book")
    if not found:
        raise FileNotFoundError("jupyter-book not found: install rnnbook with the [book] extra")
    return found


def build_book(root: str | Path = ".", *, execute: bool = True, log=print) -> Path:
    """Execute the changed studies of ``_toc.yml`` (unless ``execute`` is False: then the
    executed notebooks must already be in ``book/studies/``), write the results overview
    (``rnnbook.overview``), then ``jupyter-book build ROOT -W -n --keep-going``. Returns
    ``_build/html/index.html``; BookBuildError if the build fails."""
    from rnnbook.overview import write_overview

    root = Path(root).resolve()
    names = book_studies(root)
    for name in names if execute else ():
        study_path(name, root=root)  # every study exists before anything runs
    for name in names if execute else ():
        if book_study_is_current(name, root):
            log(f"{name}: up to date ({STUDIES_DIR / name}.ipynb)")
            continue
        log(f"{name}: executing into {STUDIES_DIR / name}.ipynb")
        execute_book_study(name, root)
    write_overview(root, names)
    command = [jupyter_book_command(), "build", str(root), "-W", "-n", "--keep-going"]
    returncode = subprocess.call(command, cwd=root)
    if returncode:
        raise BookBuildError(f"jupyter-book build failed (exit status {returncode})", returncode)
    return root / "_build" / "html" / "index.html"
