"""One builder at a time for a file that is expensive to make: a blocking `fcntl` lock beside it.

A dataset prepared or a classifier trained on first use may be asked for by two
processes at once (two binaries, two test workers). Each takes the lock, then
looks again: the second finds the first's result instead of building it again
(or removing the first's half-written files). Advisory and local-file-system
only, like `kgan.saving.run_lock`, whose lock refuses instead of waiting.
"""

from __future__ import annotations

import contextlib
import fcntl
import os


@contextlib.contextmanager
def building(path: str | os.PathLike):
    """Holds an exclusive lock on ``<path>.lock`` (its folder is created) for the block; waits for other holders."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
