"""The results overview: book/overview.yaml against _toc.yml, and the page it writes."""

import json

import pytest
import yaml

from rnnbook import book, overview, studies
from rnnbook.overview import OverviewError

ROOT = studies.find_root()


def test_every_study_of_the_toc_has_an_overview_entry_with_two_headlines():
    entries = overview.load_overview(ROOT, book.book_studies(ROOT))
    assert [e.name for e in entries] == book.book_studies(ROOT)
    for entry in entries:
        assert len(entry.headlines) >= overview.MIN_HEADLINES and entry.question.strip()
        assert entry.source is None or f"{{{entry.source}," in (
            ROOT / "book" / "references.bib"
        ).read_text(encoding="utf-8")


def _executed(path, records):
    outputs = [
        {
            "output_type": "display_data",
            "metadata": {"scrapbook": {"name": name, "mime_prefix": ""}},
            "data": {"text/plain": repr(value)},
        }
        for name, value in records.items()
    ]
    cell = {"cell_type": "code", "metadata": {}, "source": "", "outputs": outputs}
    cell["execution_count"] = 1
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook))


@pytest.fixture
def tiny_book(tmp_path):
    (tmp_path / "book" / "studies").mkdir(parents=True)
    entry = {
        "title": "A study",
        "question": "Does it work | or not?",
        "source": "src_x",
        "headline": [["acc", "accuracy", ".1%"], ["n", "networks", ".0f"]],
    }
    (tmp_path / "book" / "overview.yaml").write_text(yaml.safe_dump({"one": entry}))
    return tmp_path


def test_the_page_shows_the_recorded_numbers_formatted(tiny_book):
    _executed(tiny_book / "book" / "studies" / "one.ipynb", {"acc": 0.91234, "n": 5})
    text = overview.write_overview(tiny_book, ["one"]).read_text(encoding="utf-8")
    assert "accuracy: 91.2%; networks: 5" in text
    assert "| Does it work \\| or not? |" in text  # a | in a cell is escaped
    assert "{doc}`A study <studies/one>`" in text and "{cite:t}`src_x`" in text


def test_a_headline_the_study_does_not_record_is_named(tiny_book):
    _executed(tiny_book / "book" / "studies" / "one.ipynb", {"acc": 0.9})
    with pytest.raises(OverviewError, match=r"one lists the record 'n'.*records: acc"):
        overview.write_overview(tiny_book, ["one"])


def test_a_study_without_an_entry_is_named(tiny_book):
    with pytest.raises(OverviewError, match=r"no entry for the studies \['two'\]"):
        overview.load_overview(tiny_book, ["one", "two"])


def test_fewer_than_two_headlines_are_refused(tiny_book):
    data = yaml.safe_load((tiny_book / "book" / "overview.yaml").read_text())
    data["one"]["headline"] = data["one"]["headline"][:1]
    (tiny_book / "book" / "overview.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(OverviewError, match="2 records at least"):
        overview.load_overview(tiny_book, ["one"])
