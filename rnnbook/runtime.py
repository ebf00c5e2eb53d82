"""Process-level settings that decide CPU training speed, measured on 2-core machines.

- Threads: networks of n_rec <= 64 train as fast on one thread as on two (their matmuls are too
  small to split), so they leave the other core free; larger ones are faster on every core
  (2AFC size, batch 64, T 100, ms per step on 1 / 2 threads: N=32 7.1 / 6.7, N=64 10.9 / 10.9,
  N=128 20.9 / 18.5, N=256 50.7 / 35.7). ``threads_for`` encodes that. Parallel training of
  many networks (``rnnbook.training.many``) runs one thread per worker process instead.
- Allocator: tensors over 32 MB come from fresh mmap'd pages every step, and long sequences
  drift from 3 s to 6 s per step; keeping glibc from using mmap for them removes the drift.
  Nor may glibc give freed heap back to the OS (trimming): a training step frees gigabytes at
  the top of the heap, and the next one faults them back in page by page (integration size,
  N = 500, T = 7000: 550 k page faults and 2.8 s per step with a 1 GB trim threshold, none and
  1.65 s without trimming). The cost: the process keeps its peak heap until it exits.
- Denormals: once a loss is near zero, gradients underflow into denormal floats, which the CPU
  handles 10-100x more slowly; flushing them to zero removes that slowdown.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from contextlib import contextmanager

import torch

SMALL_NETWORK = 64  # n_rec up to which one thread is as fast as two (measured, see above)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc mallopt parameters
_tuned = False


def threads_for(n_rec: int) -> int:
    """The torch thread count to train a network of ``n_rec`` units with.

    ``RNNBOOK_THREADS`` overrides it; otherwise 1 for small networks, else all of torch's.
    """
    if os.environ.get("RNNBOOK_THREADS"):
        return int(os.environ["RNNBOOK_THREADS"])
    return 1 if n_rec <= SMALL_NETWORK else torch.get_num_threads()


@contextmanager
def torch_threads(n: int):
    """Run the body with ``n`` torch threads, then restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def tune_for_training() -> None:
    """Flush denormals, keep large tensors off mmap and never trim the heap (glibc only); once
    per process."""
    global _tuned
    torch.set_flush_denormal(True)
    if _tuned:
        return
    _tuned = True
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    libc = ctypes.CDLL(libc_name)
    if hasattr(libc, "mallopt"):
        libc.mallopt(_M_MMAP_MAX, 0)
        libc.mallopt(_M_TRIM_THRESHOLD, -1)  # -1: never (man mallopt)
