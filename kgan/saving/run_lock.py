"""One writer per run directory: an advisory `fcntl` lock on ``<model_dir>/.lock``.

Two trainings in one run directory overwrite each other's checkpoints (both
start from the same step, one prunes what the other is writing, and a
checkpoint can end up with one run's metadata over the other's weights).
`RunLock` makes the second one fail at once with a message naming the first.

The lock is ``flock(LOCK_EX | LOCK_NB)`` on the file, held for as long as the
file descriptor is open: the kernel releases it when the process exits,
however it dies, so a lock left by a killed process is simply free (it is
taken over, and the holder record of the dead process is reported). The
file holds a JSON record of the holder (pid, host, command, start time) for
the message; it is truncated, never deleted, because unlinking a lock file
another process has just opened would let two processes lock two different
files. Advisory: it binds kgan processes (and anything else that takes it),
on local file systems (``flock`` over NFS depends on the mount).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time

__all__ = ["LOCK_FILE", "RunDirectoryInUse", "RunLock"]

LOCK_FILE = ".lock"


class RunDirectoryInUse(RuntimeError):
    """Another process holds the run directory's lock; the message names it."""


class RunLock:
    """The exclusive lock of one run directory, a context manager.

    Args:
      directory: the run directory (created if missing).

    Attributes:
      previous_holder: the record left by an earlier holder that is no longer
        running (a killed run), or None.
    """

    def __init__(self, directory):
        self.directory = os.fspath(directory)
        self.path = os.path.join(self.directory, LOCK_FILE)
        self.previous_holder = None
        self._fd = None

    def acquire(self) -> "RunLock":
        """Takes the lock or raises `RunDirectoryInUse` (at once: it never waits)."""
        if self._fd is not None:
            return self
        os.makedirs(self.directory, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_record(fd)
            os.close(fd)
            raise RunDirectoryInUse(
                f"{self.directory} is in use by {_describe(holder)}: one training at a time per run directory. "
                "Wait for it to finish (or stop it), or train into another --model_dir."
            ) from None
        except OSError:
            os.close(fd)
            raise
        record = _read_record(fd)
        if record and record.get("pid") != os.getpid():
            self.previous_holder = record  # Its process is gone: the kernel released its lock.
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv), "started": time.time(),
        }).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Gives the lock up (a no-op if not held); the file stays, emptied."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            os.close(self._fd)  # Closing the descriptor releases the flock.
            self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()


def _read_record(fd) -> dict | None:
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode() or "null")
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


def _describe(record) -> str:
    if not record:
        return "another process (it has not written its record yet)"
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record["started"])) if isinstance(record.get("started"), (int, float)) else "?"
    return f"process {record.get('pid')} on {record.get('host')} (`{record.get('command')}`, started {started})"
