"""The book's results overview: one table of every study, written at build time from records.

``book/overview.yaml`` says, per study of ``_toc.yml``, its question in one line, the source
codebase it reproduces (a key of ``book/references.bib``) and which of its records are its
headline numbers (with a label and a format). ``write_overview`` reads those records from the
executed notebooks in ``book/studies/`` and writes ``book/results.md`` (generated, not
committed), so the numbers on the overview are always those of the pages beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from rnnbook.atomic import write_replacing
from rnnbook.book import STUDIES_DIR
from rnnbook.records import read_records

OVERVIEW_FILE = Path("book") / "overview.yaml"
RESULTS_PAGE = Path("book") / "results.md"
MIN_HEADLINES = 2


class OverviewError(ValueError):
    """book/overview.yaml and the executed studies disagree (a study or record is missing)."""


@dataclass(frozen=True)
class Headline:
    record: str
    label: str
    format: str  # a format spec: ".1%", ".2f", ".0f", ...


@dataclass(frozen=True)
class StudyEntry:
    name: str
    title: str
    question: str
    source: str | None  # a bib key, or None for a page about the package
    headlines: tuple[Headline, ...]


def load_overview(root: str | Path, studies: list[str]) -> list[StudyEntry]:
    """The entries of ``book/overview.yaml`` for ``studies`` (in that order), checked."""
    path = Path(root) / OVERVIEW_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [name for name in studies if name not in data]
    if missing:
        raise OverviewError(f"{path}: no entry for the studies {missing} of _toc.yml")
    return [_entry(path, name, data[name]) for name in studies]


def _entry(path: Path, name: str, item: object) -> StudyEntry:
    where = f"{path}: {name}"
    if not isinstance(item, dict) or not {"title", "question", "headline"} <= set(item):
        raise OverviewError(f"{where}: needs title, question, source and headline")
    rows = item["headline"]
    if not isinstance(rows, list) or len(rows) < MIN_HEADLINES:
        raise OverviewError(f"{where}: headline lists {MIN_HEADLINES} records at least")
    headlines = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row)):
            raise OverviewError(f"{where}: headline row {row!r} is not [record, label, format]")
        headlines.append(Headline(*row))
    return StudyEntry(name, item["title"], item["question"], item.get("source"), tuple(headlines))


def headline_text(headline: Headline, records: dict[str, object], study: str) -> str:
    if headline.record not in records:
        raise OverviewError(
            f"book/overview.yaml: {study} lists the record {headline.record!r}, which the "
            f"executed notebook does not record (it records: {', '.join(sorted(records))})"
        )
    value = records[headline.record]
    try:
        shown = format(value, headline.format)
    except (TypeError, ValueError):
        raise OverviewError(
            f"book/overview.yaml: {study}: format {headline.format!r} does not apply to "
            f"{headline.record} = {value!r}"
        ) from None
    return f"{headline.label}: {shown}"


def overview_markdown(entries: list[StudyEntry], records: dict[str, dict]) -> str:
    """The results page: one row per study, numbers from ``records`` (study -> records)."""
    lines = [
        "# Results at a glance",
        "",
        "Every study of the book in one line: the question it asks, its headline numbers and",
        "the source codebase it reproduces. The numbers are read from the executed pages when",
        "the book is built (never typed), at each page's book settings, so they are the numbers",
        "of the pages themselves; each page gives their spread over networks and their caveats.",
        "",
        "| Study | Question | Headline numbers | Reproduces |",
        "| --- | --- | --- | --- |",
    ]
    for entry in entries:
        numbers = "; ".join(
            headline_text(h, records[entry.name], entry.name) for h in entry.headlines
        )
        source = f"{{cite:t}}`{entry.source}`" if entry.source else "(the package itself)"
        link = f"{{doc}}`{entry.title} <studies/{entry.name}>`"
        cells = [link, entry.question, numbers, source]
        lines.append("| " + " | ".join(c.replace("|", r"\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_overview(root: str | Path, studies: list[str]) -> Path:
    """Write ``book/results.md`` from the executed notebooks of ``studies``; return its path."""
    root = Path(root)
    entries = load_overview(root, studies)
    records = {name: read_records(root / STUDIES_DIR / f"{name}.ipynb") for name in studies}
    return write_replacing(root / RESULTS_PAGE, overview_markdown(entries, records))
