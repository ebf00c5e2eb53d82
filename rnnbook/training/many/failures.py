"""How an ensemble reports the runs that failed: one error, after every other run is stored."""

from __future__ import annotations

from rnnbook.runs import RunSpec


class EnsembleError(RuntimeError):
    """Some runs of ``fit_many`` failed; every other run is stored in the cache.

    ``failures``: one line per failed run (seed, key, exception). Calling ``fit_many`` again
    loads the stored runs and retries only the failed ones.
    """

    def __init__(self, failures: list[str], n_runs: int):
        self.failures = failures
        lines = "\n".join(f"  {line}" for line in failures)
        super().__init__(
            f"{len(failures)} of {n_runs} runs failed (the others are stored in the cache):\n"
            + lines
        )


def failure_line(spec: RunSpec, error: BaseException) -> str:
    """``seed S, key K: ErrorType: first line of its message``."""
    message = str(error).splitlines()[0] if str(error) else ""
    return f"seed {spec.seed}, key {spec.key()[:12]}: {type(error).__name__}: {message}"
