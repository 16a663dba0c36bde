"""Crash-safe file writes: readers see the old file or the new one, never a part.

Used by checkpoints, sample grids, exports and run records. A write goes to a
hidden temporary sibling (``.tmp-*``), is flushed to disk, then renamed over
its final name; renames within one directory are atomic on POSIX.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid


def fsync_path(path) -> None:
    """Flushes a file or directory to disk; a no-op where the OS refuses (some file systems)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(path) -> None:
    """Flushes every file and directory under ``path``, before a rename publishes it."""
    for root, _, files in os.walk(path):
        for file_name in files:
            fsync_path(os.path.join(root, file_name))
        fsync_path(root)


def temporary_sibling(path, suffix: str = "") -> str:
    """A unique hidden name next to ``path`` (``.tmp-<hex><suffix>``), not created."""
    directory = os.path.dirname(os.fspath(path)) or "."
    return os.path.join(directory, f".tmp-{uuid.uuid4().hex}{suffix}")


@contextlib.contextmanager
def atomic_path(path, suffix: str = ""):
    """Yields a temporary path to write; on success renames it over ``path``.

    On an exception the temporary file is removed and ``path`` is untouched.
    ``suffix`` keeps an extension that writers look at (e.g. ``".png"``).
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = temporary_sibling(path, suffix)
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(os.path.dirname(path) or ".")
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path, text: str) -> None:
    """Replaces ``path`` with ``text`` (UTF-8) atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)


def remove_tree(path) -> None:
    """Deletes a directory so that it never exists half-deleted under its name."""
    trash = temporary_sibling(path, ".trash")
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)
