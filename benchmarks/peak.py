"""The physical limit: fp32 matmul GFLOP/s of a large (2048^3) product on 1 and on 2 threads."""

from __future__ import annotations

import statistics
import time

import torch

from benchmarks.isolated import child_main

SIZE = 2048


def matmul_gflops(*, threads: int, repeats: int, size: int = SIZE) -> list[float]:
    """GFLOP/s of ``repeats`` timed ``[size, size] @ [size, size]`` products (after a warm-up)."""
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen)
    b = torch.randn(size, size, generator=gen)
    out = torch.empty(size, size)
    torch.mm(a, b, out=out)  # warm-up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        rates.append(2 * size**3 / (time.perf_counter() - start) / 1e9)
    return rates


def measure(quick: bool) -> dict:
    """Median GFLOP/s at 1 and 2 threads (every sample kept in ``samples``)."""
    repeats = 3 if quick else 9
    result = {"size": SIZE, "repeats": repeats}
    for threads in (1, 2):
        rates = matmul_gflops(threads=threads, repeats=repeats)
        result[f"gflops_{threads}t"] = statistics.median(rates)
        result[f"samples_{threads}t"] = rates
    return result


if __name__ == "__main__":
    child_main({"matmul": measure})
