"""The whole book, built from every study executed on its smoke preset, opened page by page in
headless Chromium (see tests/book_browser.py for what counts as a problem).

The studies are not executed again here: nbval's runs of the smoke copies (earlier in the same
session, see conftest.py) are the executed notebooks. Run alone (``pytest
tests/test_book_browser.py``), the fixture executes the smoke copies itself with papermill.
The book is built in ``_build/browser-test/book/`` (its executed notebooks beside it, in
``executed/``), and screenshots of the first screen of every page are saved under
``_build/browser-screenshots/``.
Without Chromium the tests are skipped with a message saying how to install it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import book_browser as bb
import nbformat
import pytest

from rnnbook import book, overview, studies

ROOT = bb.ROOT
PAGES = bb.book_pages()
STUDIES = book.book_studies(ROOT)


@pytest.fixture(scope="session")
def browser():
    executable = bb.chromium_executable()
    if executable is None:
        pytest.skip(bb.INSTALL_HINT)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(bb.INSTALL_HINT)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=bb.CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def smoke_book(browser, executed_smoke_notebooks) -> Path:
    """The HTML folder of the book built from the smoke executions of every study, in
    ``_build/browser-test/`` (emptied first; kept afterwards, to open after a failure)."""
    folder = bb.BUILD_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "executed").mkdir(parents=True)
    executed, failed = {}, {}
    for name in STUDIES:
        path = executed[name] = folder / "executed" / f"{name}.ipynb"
        notebook, failed_cell = executed_smoke_notebooks.get(name, (None, None))
        if failed_cell is not None:
            failed[name] = failed_cell
        elif notebook is not None and all(
            c.get("execution_count") for c in notebook.cells if c.cell_type == "code"
        ):
            nbformat.write(notebook, path)
        else:  # nbval did not run this study in this session: run its smoke preset here
            studies.smoke_notebook(name, folder / "smoke", root=ROOT)
            studies.run_study(name, preset="smoke", output=path, root=ROOT)
    if failed:
        pytest.fail(f"studies whose smoke run failed, so the book cannot be built: {failed}")
    try:
        return bb.build_book_from(executed, folder / "book")
    except book.BookBuildError as error:
        pytest.fail(f"the smoke book does not build: {error} (see the build's output above)")


@pytest.fixture(scope="session")
def served(smoke_book):
    with bb.BookServer(smoke_book) as server:
        yield server


@pytest.mark.parametrize("page", PAGES)
def test_page_as_a_reader_sees_it(page, browser, served, smoke_book):
    problems = bb.check_page(browser, served.url, page, smoke_book, bb.screenshot_path(page))
    assert not problems, f"{page}:\n- " + "\n- ".join(problems)


@pytest.mark.parametrize("page", PAGES)
def test_page_links_and_anchors_resolve(page, smoke_book):
    problems = bb.check_links(smoke_book, page)
    assert not problems, f"{page}:\n- " + "\n- ".join(problems)


def test_results_overview_lists_every_study_with_two_numbers(smoke_book):
    text = (smoke_book / "book" / "results.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", text, re.S)[1:]  # the header row first
    linked = [name for name in STUDIES if f'href="studies/{name}.html"' in text]
    assert linked == STUDIES and len(rows) == len(STUDIES)
    for row in rows:
        numbers = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[2]
        assert numbers.count(":") >= overview.MIN_HEADLINES, row


# -- the checks fail on a broken copy of the build ---------------------------------------------


def _figure_pages(html_dir: Path) -> list[tuple[str, str]]:
    """Each study page with a figure, with the src of its first figure image."""
    found = []
    for page in PAGES:
        if bb.is_study_page(page):
            text = (html_dir / page).read_text(encoding="utf-8")
            image = re.search(r'<img[^>]+src="([^"]+_images/[^"]+\.png)"', text)
            if image:
                found.append((page, image.group(1)))
    return found


@pytest.fixture(scope="module")
def broken_copy(smoke_book, tmp_path_factory) -> Path:
    """One copy of the smoke book for the tests that break it: each breaks another page."""
    return shutil.copytree(smoke_book, tmp_path_factory.mktemp("broken") / "html")


def _insert(path: Path, html: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("</main>", html + "</main>", 1), encoding="utf-8")


def _delete_figure(html_dir, page, src):
    bb.local_file("http://book/" + page, src, html_dir).unlink()


def _blank_figure(html_dir, page, src):
    from PIL import Image

    path = bb.local_file("http://book/" + page, src, html_dir)
    with Image.open(path) as image:
        size = image.size
    Image.new("RGB", size, "white").save(path)


def _path_as_alt(html_dir, page, src):
    path = html_dir / page
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r'(<img[^>]+?)alt="[^"]*"', rf'\1alt="{src}"', text, count=1))


def _shrink_figure(html_dir, page, src):
    _insert(html_dir / page, "<style>main img { max-width: 200px !important; }</style>")


def _javascript_error(html_dir, page, src):
    _insert(html_dir / page, "<script>not_a_function_of_this_book();</script>")


def _raw_tex(html_dir, page, src):
    _insert(html_dir / page, r"<p>The rate \(r = \phi(x)\) is shown as raw TeX.</p>")


def _missing_anchor(html_dir, page, src):
    _insert(html_dir / page, '<p><a href="#no-such-anchor">a broken anchor</a></p>')


BREAKAGES = {
    _delete_figure: "is missing or does not load",
    _blank_figure: "is blank",
    _path_as_alt: "no meaningful alt text",
    _shrink_figure: "its text is below 9 pt",
    _javascript_error: "JavaScript error",
    _raw_tex: "raw TeX",
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda f: f.__name__.strip("_"))
def test_the_browser_check_fails_on_a_broken_copy(breakage, browser, broken_copy):
    pages = _figure_pages(broken_copy)
    assert len(pages) > len(BREAKAGES), "too few study pages with figures to break one each"
    page, src = pages[list(BREAKAGES).index(breakage)]
    breakage(broken_copy, page, src)  # the page as built is checked clean above
    with bb.BookServer(broken_copy) as server:
        problems = bb.check_page(browser, server.url, page, broken_copy)
    assert any(BREAKAGES[breakage] in p for p in problems), problems


def test_the_link_check_fails_on_a_missing_anchor(broken_copy):
    page, src = _figure_pages(broken_copy)[-1]  # not one of the pages broken above
    assert not bb.check_links(broken_copy, page)
    _missing_anchor(broken_copy, page, src)
    assert any("no anchor #no-such-anchor" in p for p in bb.check_links(broken_copy, page))


def test_the_link_check_fails_on_a_missing_page(smoke_book, tmp_path):
    html_dir = tmp_path / "html"
    (html_dir / "book").mkdir(parents=True)
    shutil.copy2(smoke_book / "book" / "intro.html", html_dir / "book" / "intro.html")
    assert not bb.check_links(smoke_book, "book/intro.html")
    missing = "book/results.html does not exist"  # the intro links to it; the copy lacks it
    assert any(missing in p for p in bb.check_links(html_dir, "book/intro.html"))


@pytest.mark.parametrize(
    "alt, meaningful",
    [
        ("", False),
        ("../../_images/3edfb8362cdb.png", False),
        ("fig.png", False),
        ("Psychometric curves of three networks against signed coherence", True),
    ],
)
def test_meaningful_alt_text(alt, meaningful):
    assert bb.is_meaningful_alt(alt) is meaningful
