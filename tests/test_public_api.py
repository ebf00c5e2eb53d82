"""The public API: `import rnnbook as rb` gives the main names, and the book's "Using the
package" page lists every one of them."""

import re
from pathlib import Path

import rnnbook as rb

PAGE = Path(__file__).resolve().parents[1] / "book" / "package.md"


def test_every_public_name_exists_once():
    assert len(rb.__all__) == len(set(rb.__all__))
    assert [name for name in rb.__all__ if not hasattr(rb, name)] == []


def test_the_main_names_are_one_hop_away():
    for name in ["RateRNN", "ModelConfig", "TrainConfig", "RunSpec", "train", "fit", "fit_many",
                 "evaluate", "psychometric", "find_fixed_points", "plot_psychometric", "record",
                 "PerceptualDecision", "Penalty", "Seeds", "Lesion"]:  # fmt: skip
        assert name in rb.__all__, name


def test_the_book_page_lists_every_public_name_and_no_other():
    listed = re.findall(r"^\| `rb\.(\w+)` \|", PAGE.read_text(), flags=re.MULTILINE)
    assert sorted(listed) == sorted(rb.__all__)


def test_interop_loads_on_first_use_without_tensorflow_at_import():
    import subprocess
    import sys

    code = (
        "import sys, rnnbook; print('tensorflow' in sys.modules, 'rnnbook.interop' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert rb.interop.to_rate_rnn is not None
