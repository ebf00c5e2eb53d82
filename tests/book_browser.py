"""The book as a reader sees it: build it from executed studies and check each page in Chromium.

Used by tests/test_book_browser.py. ``build_book_from`` builds the HTML book in a folder of its
own from executed notebooks (the same ``jupyter-book build -W -n --keep-going`` as ``make
book``); ``BookServer`` serves it on localhost; ``check_page`` opens one page in headless
Chromium (Debian's ``chromium``, driven by Playwright with that executable: nothing is
downloaded) and returns its problems; ``check_links`` checks every internal link and anchor of
the built HTML without a browser.

A page has a problem when it does not load; logs a JavaScript error or a console error (a
resource that fails to load logs one); asks for anything outside the book (it must work with
the network off: MathJax is served from the book); shows an equation as raw TeX; has a figure
image that is missing, fails to load, is blank (one colour), has no meaningful alt text, or is
drawn wider than shown by more than ``MAX_OVERDRAW`` (its 9-pt text would be shown below 9 pt);
or, for a study page, lacks its table of recorded numbers.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import yaml

from rnnbook import book, studies

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "browser-screenshots"
BUILD_FOLDER = ROOT / "_build" / "browser-test"  # the smoke book: rebuilt by every session
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")
INSTALL_HINT = (
    "the book's browser tests need Debian's Chromium: `apt-get install -y chromium` (as root; "
    ".ci/run does it), and Playwright from `make setup` (pip, no browser download)"
)
# the style draws 9-pt text at 110 dpi: 9 * 110 / 72 = 13.75 px, shown at 96 px per inch it is
# 9 * 110 / 96 = 10.3 pt; shrunk by more than 10.3 / 9 = 1.146 it falls below 9 pt
MAX_OVERDRAW = 1.14
VIEWPORT = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BOOK_SOURCES = ("_config.yml", "_toc.yml", "book")
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\(?:frac|mathrm|sqrt|sum|left)\b")
MEANINGFUL_ALT_WORDS = 4


def chromium_executable() -> str | None:
    """The system Chromium, or None."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


# -- building ---------------------------------------------------------------------------------


def build_book_from(executed: dict[str, Path], dest: Path) -> Path:
    """Build the book in ``dest`` from the executed notebooks ``executed`` (study -> .ipynb)
    and return its HTML folder. The smoke checks cell of a smoke copy is left out."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in BOOK_SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("studies"))
        else:
            shutil.copy2(source, dest / name)
    (dest / book.STUDIES_DIR).mkdir(parents=True, exist_ok=True)
    for name, path in executed.items():
        notebook = nbformat.read(path, as_version=4)
        notebook.cells = [c for c in notebook.cells if studies.CHECKS not in _tags(c)]
        nbformat.write(notebook, dest / book.STUDIES_DIR / f"{name}.ipynb")
    book.build_book(dest, execute=False, log=lambda line: None)
    return dest / "_build" / "html"


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def book_pages(root: Path = ROOT) -> list[str]:
    """The HTML page of every document of ``_toc.yml``, relative to the HTML folder."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    return [f"{toc['root']}.html"] + [f"{f}.html" for f in book.toc_files(toc)]


def is_study_page(page: str) -> bool:
    return page.startswith(book.STUDIES_DIR.as_posix() + "/")


# -- serving ----------------------------------------------------------------------------------


class BookServer:
    """Serve ``html_dir`` on 127.0.0.1 (a free port) in a thread, as a context manager."""

    def __init__(self, html_dir: Path):
        handler = functools.partial(_QuietHandler, directory=str(html_dir))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> BookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002  (the base class's signature)
        pass


# -- one page in the browser ------------------------------------------------------------------

_IMAGES_JS = """() => Array.from(document.querySelectorAll('main img, article img')).map(img => ({
    src: img.getAttribute('src'), alt: img.getAttribute('alt') || '', complete: img.complete,
    natural: img.naturalWidth, shown: img.getBoundingClientRect().width }))"""
_MATHJAX_JS = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        await MathJax.startup.promise; return document.querySelectorAll('mjx-container').length;
    }
    return -1; }"""
_TEXT_JS = """() => { const main = document.querySelector('main') || document.body;
    const copy = main.cloneNode(true);
    copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight, details')
        .forEach(e => e.remove());
    return copy.innerText; }"""
_RECORDS_JS = """() => ({
    records: document.querySelectorAll('details.rnnbook-records tbody tr').length,
    cost: (document.body.innerText.match(/What a re-run costs/g) || []).length })"""


def check_page(browser, base_url: str, page: str, html_dir: Path, screenshot=None) -> list[str]:
    """Open ``page`` (relative to the book's root URL) and return its problems."""
    problems: list[str] = []
    tab = browser.new_page(viewport=VIEWPORT)
    tab.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    tab.on("pageerror", lambda e: problems.append(f"JavaScript error: {e}"))
    tab.route("**/*", functools.partial(_offline_only, base_url, problems))
    try:
        response = tab.goto(base_url + page, wait_until="load")
        if response is None or not response.ok:
            status = response.status if response else "no response"
            return [f"the page does not load ({status})"]
        typeset = tab.evaluate(_MATHJAX_JS)
        tab.wait_for_timeout(200)  # late console messages
        problems += _image_problems(tab.evaluate(_IMAGES_JS), base_url + page, html_dir)
        raw = sorted(set(RAW_TEX.findall(tab.evaluate(_TEXT_JS))))
        if raw:
            problems.append(f"raw TeX shown as text ({', '.join(raw)}; MathJax typeset {typeset})")
        if is_study_page(page):
            found = tab.evaluate(_RECORDS_JS)
            if found["records"] < 1:
                problems.append("no table of recorded numbers (details.rnnbook-records)")
            if found["cost"] < 1:
                problems.append("no 'What a re-run costs' note")
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(screenshot))
    finally:
        tab.close()
    return problems


def _offline_only(base_url: str, problems: list[str], route) -> None:
    url = route.request.url
    if url.startswith(base_url) or url.startswith("data:") or url.startswith("blob:"):
        route.continue_()
    else:
        problems.append(f"asks for {url}: the book must work with the network off")
        route.abort()


def _image_problems(images: list[dict], page_url: str, html_dir: Path) -> list[str]:
    problems = []
    for image in images:
        src = image["src"] or "(no src)"
        if not image["complete"] or image["natural"] == 0:
            problems.append(f"image {src} is missing or does not load")
            continue
        alt = image["alt"].strip()
        if not is_meaningful_alt(alt):
            problems.append(f"image {src} has no meaningful alt text (alt = {alt!r})")
        if image["shown"] > 0 and image["natural"] > MAX_OVERDRAW * image["shown"]:
            ratio = image["natural"] / image["shown"]
            problems.append(
                f"image {src} is drawn {image['natural']} px wide and shown at "
                f"{image['shown']:.0f} px ({ratio:.2f}x > {MAX_OVERDRAW}x): its text is below 9 pt"
            )
        path = local_file(page_url, src, html_dir)
        if path is not None and path.is_file() and image_is_blank(path):
            problems.append(f"image {src} is blank (every pixel one colour)")
    return problems


def is_meaningful_alt(alt: str) -> bool:
    """Alt text that says something: words, not a file name or path."""
    if not alt or "/" in alt or "\\" in alt or re.search(r"\.(png|jpe?g|svg|gif)\b", alt, re.I):
        return False
    return len(re.findall(r"[A-Za-z]{2,}", alt)) >= MEANINGFUL_ALT_WORDS


def image_is_blank(path: Path) -> bool:
    from PIL import Image

    with Image.open(path) as image:
        extrema = image.convert("RGB").getextrema()
    return all(low == high for low, high in extrema)


def local_file(page_url: str, href: str, html_dir: Path) -> Path | None:
    """The file of the book that ``href`` on the page at ``page_url`` points to (None for an
    address outside the book)."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return None
    page_path = urlsplit(page_url).path.lstrip("/")
    target = (Path(page_path).parent / unquote(parts.path)) if parts.path else Path(page_path)
    return html_dir / Path(*_normalised(target.as_posix()))


def _normalised(path: str) -> list[str]:
    out: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if out:
                out.pop()
        elif part not in ("", "."):
            out.append(part)
    return out


# -- links ------------------------------------------------------------------------------------


class _Anchors(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _parse(path: Path) -> _Anchors:
    return _parse_version(path, path.stat().st_mtime_ns)


@functools.cache
def _parse_version(path: Path, mtime_ns: int) -> _Anchors:  # a page changed is parsed again
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def check_links(html_dir: Path, page: str) -> list[str]:
    """Every internal link of ``page``: its file exists and its #anchor is an id there."""
    problems = []
    source = html_dir / page
    for href in _parse(source).links:
        parts = urlsplit(href)
        if parts.scheme in ("http", "https", "mailto", "javascript") or parts.netloc:
            continue
        target = local_file("http://book/" + page, href, html_dir)
        if target is None:
            continue
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"link {href!r}: {target.relative_to(html_dir)} does not exist")
        elif parts.fragment and target.suffix == ".html":
            if unquote(parts.fragment) not in _parse(target).ids:
                problems.append(f"link {href!r}: no anchor #{parts.fragment} in that page")
    return problems


def screenshot_path(page: str) -> Path:
    return SCREENSHOTS / (page.replace("/", "__").removesuffix(".html") + ".png")
