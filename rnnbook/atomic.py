"""Writing files and folders atomically, and cleaning up after a process killed while writing.

Everything rnnbook stores (runs, executed notebooks, sweep results) is written under a temporary
name in the folder of its final path and then renamed (or linked) into place, so a reader sees
the old entry or the new one, never half of one. A temporary name says whose it is::

    .tmp-<stem>.<pid>@<host>.<random>

so ``remove_stale`` can tell a file of a process that was killed (this machine, pid no longer
running) from one still being written; a temporary of another machine (a shared folder on a
cluster) is removed only once it is ``STALE_AFTER_S`` old.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from pathlib import Path

STALE_AFTER_S = 24 * 3600  # a temporary of another machine is removed after this long
PREFIX = ".tmp-"
_NAME = re.compile(r"\.tmp-.*\.(?P<pid>\d+)@(?P<host>[^.@]+(?:\.[^.@]+)*)\.[0-9a-f]{8}(?:\..*)?")


def temporary_name(stem: str, suffix: str = "") -> str:
    """``.tmp-<stem>.<pid>@<host>.<random><suffix>``: a temporary name beside a final one."""
    host = socket.gethostname()
    return f"{PREFIX}{stem}.{os.getpid()}@{host}.{os.urandom(4).hex()}{suffix}"


def remove_stale(folder: Path | str, *, max_age_s: float = STALE_AFTER_S) -> int:
    """Remove the temporaries (files or folders) in ``folder`` left by killed processes; returns
    how many. One of this machine is stale when its process is no longer running; one of
    another machine when it is ``max_age_s`` old."""
    removed = 0
    for path in Path(folder).glob(f"{PREFIX}*"):
        match = _NAME.fullmatch(path.name)
        mine = match is not None and match["host"] == socket.gethostname()
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            continue
        if (mine and not _alive(int(match["pid"]))) or (not mine and age > max_age_s):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # running, as another user
        return True
    return True


def write_once(path: Path | str, text: str) -> bool:
    """Write ``text`` to ``path`` unless it exists: into a temporary file, then hard-linked into
    place, which fails if another process wrote ``path`` first (its file is kept: a finished
    result is never rewritten). True if this call wrote it. On a file system without hard
    links the file is renamed into place (the last writer wins)."""
    path = Path(path)
    partial = path.with_name(temporary_name(path.name))
    partial.write_text(text, encoding="utf-8")
    try:
        os.link(partial, path)
        return True
    except FileExistsError:
        return False
    except OSError:
        os.replace(partial, path)
        return True
    finally:
        partial.unlink(missing_ok=True)


def write_replacing(path: Path | str, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file, then rename), replacing it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(temporary_name(path.name))
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
