"""Prepares the TFDS ``fashion_mnist`` dataset offline from the Debian package.

Debian's ``dataset-fashion-mnist`` installs the official Fashion-MNIST files, but
recompressed headers make their sha256 differ from the checksums TFDS validates.
Only the 10-byte gzip header differs (Debian: no file name, a 2020 timestamp;
upstream: ``FLG=FNAME``, ``MTIME`` 0x59A7E9DE for ``train-*`` / 0x59A7E9F3 for
``t10k-*``, ``XFL=0``, ``OS=3`` (Unix), then the original file name and a NUL);
the deflate stream is byte-identical. So we rebuild the upstream header, check
the result against the checksums TFDS ships, and hand the files to the stock
builder as "manually downloaded" files: TFDS's download manager uses
``<manual_dir>/<file name from its checksums list>`` instead of downloading, and
still validates its checksum. Nothing is re-implemented from the builder, so the
prepared dataset is what ``tfds.load("fashion_mnist")`` produces online.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import tempfile

from kgan import build_lock

DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_TFDS_NAME = "fashion_mnist"
# Upstream gzip MTIME per file-name prefix (2017-08-31, when Zalando packed them).
_UPSTREAM_MTIME = {"train": 0x59A7E9DE, "t10k": 0x59A7E9F3}
_GZIP_MAGIC = b"\x1f\x8b\x08"  # ID1, ID2, CM=deflate
_FTEXT, _FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 1, 2, 4, 8, 16
_OS_UNIX = 3
_INSTALL_HINT = "Install them with `apt-get install dataset-fashion-mnist`, or pass source_dir= pointing at the four *-ubyte.gz files."


def debian_files_available(source_dir: str = DEBIAN_FASHION_MNIST_DIR) -> bool:
    """Whether all four Fashion-MNIST ``*-ubyte.gz`` files exist in ``source_dir``."""
    return all(os.path.isfile(os.path.join(source_dir, f)) for f in FASHION_MNIST_FILES)


def full_fashion_mnist_available(data_dir=None) -> bool:
    """Whether all of Fashion-MNIST can be read without a network: Debian's files, or prepared for TFDS."""
    if debian_files_available():
        return True
    from kgan.data.pipeline import load_images  # Late: the pipeline imports this module's package.

    try:
        next(iter(load_images("fashion_mnist", "test", 1, data_dir=data_dir, download=False)))
        return True
    except Exception:  # noqa: BLE001 -- any failure to read it means: not here.
        return False


def manual_dir_for(data_dir_root: str | os.PathLike) -> str:
    """The manual-download directory we use under a TFDS data dir root."""
    return os.path.join(os.fspath(data_dir_root), "manual", _TFDS_NAME)


def _deflate_offset(gz: bytes) -> int:
    """Byte offset where the deflate stream starts, skipping optional header fields."""
    if gz[:3] != _GZIP_MAGIC:
        raise ValueError("not a gzip (deflate) file")
    flags = gz[3]
    pos = 10
    if flags & _FEXTRA:
        (extra_len,) = struct.unpack("<H", gz[pos : pos + 2])
        pos += 2 + extra_len
    for flag in (_FNAME, _FCOMMENT):
        if flags & flag:
            pos = gz.index(b"\0", pos) + 1
    if flags & _FHCRC:
        pos += 2
    return pos


def restore_upstream_gzip(gz: bytes, file_name: str) -> bytes:
    """Rewrites a Fashion-MNIST gzip file's header to the upstream one.

    Args:
      gz: the bytes of one ``*-ubyte.gz`` file as any gzip tool wrote it.
      file_name: its upstream name, e.g. ``"t10k-images-idx3-ubyte.gz"``; selects
        the MTIME and supplies the embedded original name (without ``.gz``).

    Returns:
      The same deflate stream and trailer under the upstream 10-byte header plus
      ``FNAME``.
    """
    mtime = _UPSTREAM_MTIME[file_name.split("-", 1)[0]]
    original_name = file_name.removesuffix(".gz").encode("latin-1")
    header = _GZIP_MAGIC + bytes([_FNAME]) + struct.pack("<I", mtime) + bytes([0, _OS_UNIX]) + original_name + b"\0"
    return header + gz[_deflate_offset(gz) :]


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_restored_files(source_dir: str, manual_dir: str, expected_sha256: dict[str, str]) -> None:
    """Writes the upstream-identical files into ``manual_dir`` (skips good ones)."""
    os.makedirs(manual_dir, exist_ok=True)
    for name in FASHION_MNIST_FILES:
        target = os.path.join(manual_dir, name)
        if os.path.isfile(target) and _sha256(target) == expected_sha256[name]:
            continue
        with open(os.path.join(source_dir, name), "rb") as f:
            restored = restore_upstream_gzip(f.read(), name)
        got = hashlib.sha256(restored).hexdigest()
        if got != expected_sha256[name]:
            raise ValueError(
                f"{os.path.join(source_dir, name)}: after restoring the upstream gzip header its sha256 is {got}, "
                f"but TFDS expects {expected_sha256[name]}. The source is not the official Fashion-MNIST release "
                "(or TFDS changed its checksums); prepare fashion_mnist online with `tfds build fashion_mnist`."
            )
        # Write-then-rename so an interrupted run never leaves a truncated file behind.
        tmp = target + ".tmp"
        with open(tmp, "wb") as f:
            f.write(restored)
        os.replace(tmp, target)


def prepare_offline_fashion_mnist(
    data_dir: str | os.PathLike | None = None,
    source_dir: str | os.PathLike = DEBIAN_FASHION_MNIST_DIR,
) -> str:
    """Prepares TFDS ``fashion_mnist`` in ``data_dir`` without network access.

    Restores the upstream files into ``<data_dir>/manual/fashion_mnist`` (kept, so
    the data dir can be re-prepared or copied to a machine without the Debian
    package), then runs the stock builder with ``DownloadConfig(manual_dir=...,
    try_download_gcs=False)``. Downloads/extractions go to a temporary directory
    that is removed afterwards. Does nothing if the dataset is already prepared.
    Takes about 25 s on 2 CPU cores.

    Args:
      data_dir: TFDS data dir root (created if missing); ``None`` means TFDS's
        default (``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``).
      source_dir: directory with the four Fashion-MNIST ``*-ubyte.gz`` files.

    Returns:
      The prepared dataset's directory, e.g. ``<data_dir>/fashion_mnist/3.0.1``.
      Afterwards ``tfds.load("fashion_mnist", data_dir=data_dir)`` works offline
      and yields ``image`` uint8 ``[28, 28, 1]`` in [0, 255], ``label`` int64 in [0, 9].

    Raises:
      FileNotFoundError: if a source file is missing (with the apt-get command).
      ValueError: if a restored file does not match TFDS's checksum.
    """
    import tensorflow_datasets as tfds  # Heavy import; only needed here.

    # An explicit root (not data_dir=None) so the manual files and the dataset land together.
    root = os.fspath(data_dir) if data_dir is not None else tfds.core.constants.DATA_DIR
    builder = tfds.builder(_TFDS_NAME, data_dir=root)
    if builder.is_prepared():
        return os.fspath(builder.data_dir)
    # Two processes preparing one data dir at once (two binaries started together on a fresh
    # machine) remove each other's incomplete files; the second waits here, then finds it done.
    with build_lock.building(os.path.join(root, f".{_TFDS_NAME}.prepare")):
        builder = tfds.builder(_TFDS_NAME, data_dir=root)
        if builder.is_prepared():
            return os.fspath(builder.data_dir)
        return _prepare_locked(builder, root, source_dir)


def _prepare_locked(builder, root: str, source_dir) -> str:
    """`prepare_offline_fashion_mnist`'s work, under its lock."""
    import tensorflow_datasets as tfds

    source_dir = os.fspath(source_dir)
    missing = [f for f in FASHION_MNIST_FILES if not os.path.isfile(os.path.join(source_dir, f))]
    if missing:
        raise FileNotFoundError(f"Fashion-MNIST source files missing in {source_dir}: {', '.join(missing)}. {_INSTALL_HINT}")

    # TFDS ships one checksum entry per URL; the manual-dir lookup is by its file name.
    expected_sha256 = {info.filename: info.checksum for info in builder.url_infos.values()}
    os.makedirs(root, exist_ok=True)
    manual_dir = manual_dir_for(root)
    _write_restored_files(source_dir, manual_dir, expected_sha256)

    download_dir = tempfile.mkdtemp(prefix=".fashion_mnist_downloads-", dir=root)
    try:
        builder.download_and_prepare(
            download_dir=download_dir,
            download_config=tfds.download.DownloadConfig(manual_dir=manual_dir, try_download_gcs=False),
        )
    finally:
        # Only decompressed copies of the manual files live here (~55 MB).
        shutil.rmtree(download_dir, ignore_errors=True)
    return os.fspath(builder.data_dir)
