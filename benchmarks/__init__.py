"""Side-by-side performance runs of rnnbook: ``python -m benchmarks [--quick] [--only A,B]``.

Every measurement runs in a fresh Python process (``benchmarks.isolated``), so no run inherits
another's thread count, allocator setting or denormal flag; the parent collects the results,
prints one table of ratios against the acceptance targets (``benchmarks.report``) and writes
the raw numbers to ``benchmarks/results/<timestamp>.json``. ``benchmarks/RESULTS.md`` keeps
the latest table.
"""
