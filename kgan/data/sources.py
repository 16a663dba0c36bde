"""Unbatched ``(image uint8 [H, W, C], label int64)`` datasets from each source.

Two sources: the embedded Fashion-MNIST subset (in memory) and TFDS. For TFDS,
an unprepared dataset is prepared first: ``fashion_mnist`` offline from the
Debian files when they exist, anything else with TFDS's own downloader (which
uses ``manual_dir`` files when given). Failures become `DatasetNotPreparedError`
with the ways to fix them.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import tensorflow as tf

from kgan.data import embedded, offline
from kgan.data.catalog import ImageDatasetInfo, dataset_info

logger = logging.getLogger(__name__)


class DatasetNotPreparedError(RuntimeError):
    """A TFDS dataset is not prepared in the data dir and could not be prepared."""


def embedded_examples(split: str) -> tf.data.Dataset:
    """The embedded Fashion-MNIST subset as ``(uint8 [28, 28, 1], int64)`` pairs."""
    images, labels = embedded.load_embedded_fashion_mnist(split)
    return tf.data.Dataset.from_tensor_slices((images, labels))


def _how_to_prepare(info: ImageDatasetInfo, builder) -> str:
    files = sorted({u.filename for u in (builder.url_infos or {}).values() if u.filename})
    root = os.fspath(builder.data_dir_root)
    ways = [
        f"on a machine with internet run `tfds build {info.tfds_name} --data_dir=DIR`, copy DIR here and pass data_dir=DIR",
    ]
    if files:
        ways.append(f"put the original files ({', '.join(files)}) in one directory and pass manual_dir=<that directory>")
    if info.name == "fashion_mnist":
        ways.append(
            "`apt-get install dataset-fashion-mnist`, then call again without manual_dir "
            "(kgan prepares it offline via kgan.data.prepare_offline_fashion_mnist)"
        )
    ways.append("for data that needs no preparation, use load_images('embedded_fashion_mnist')")
    numbered = "; ".join(f"({i}) {w}" for i, w in enumerate(ways, 1))
    return f"TFDS dataset {info.tfds_name!r} is not prepared in {root}. To fix: {numbered}."


def _prepare(info: ImageDatasetInfo, builder, data_dir, manual_dir, download: bool) -> None:
    import tensorflow_datasets as tfds

    if info.name == "fashion_mnist" and manual_dir is None and offline.debian_files_available():
        offline.prepare_offline_fashion_mnist(data_dir)
        return
    if not download:
        raise DatasetNotPreparedError(_how_to_prepare(info, builder) + " (download=False: no download attempted.)")
    # Offline, TFDS retries each URL with back-off for minutes before it gives up.
    logger.warning("Preparing TFDS %r in %s (downloading unless manual_dir has the files).", info.tfds_name, builder.data_dir_root)
    config = tfds.download.DownloadConfig(manual_dir=os.fspath(manual_dir) if manual_dir is not None else None)
    try:
        builder.download_and_prepare(download_config=config)
    except Exception as e:  # Network, checksum and manual-dir errors all mean "not prepared".
        raise DatasetNotPreparedError(f"{_how_to_prepare(info, builder)} Preparing it failed with {type(e).__name__}: {e}") from e


def prepared_builder(info: ImageDatasetInfo, *, data_dir=None, manual_dir=None, download: bool = True):
    """The TFDS builder of ``info.tfds_name``, prepared (offline where possible) if it was not.

    Raises:
      DatasetNotPreparedError: when the dataset is not prepared and cannot be.
    """
    import tensorflow_datasets as tfds

    def make_builder():
        return tfds.builder(info.tfds_name, data_dir=os.fspath(data_dir) if data_dir is not None else None)

    builder = make_builder()
    if not builder.is_prepared():
        _prepare(info, builder, data_dir, manual_dir, download)
        # A builder made before preparation keeps its empty split info; read the prepared one.
        builder = make_builder()
    return builder


def tfds_examples(
    info: ImageDatasetInfo,
    split: str,
    *,
    data_dir=None,
    manual_dir=None,
    shuffle_files: bool = False,
    seed: int | None = None,
    download: bool = True,
) -> tf.data.Dataset:
    """A TFDS split as ``(image uint8 [H, W, C], label int64)`` pairs.

    Equivalent to ``tfds.load(info.tfds_name, split=split, data_dir=data_dir,
    download_and_prepare_kwargs={"download_config": DownloadConfig(manual_dir=...)})``
    but preparation errors are caught separately from reading errors.

    Args:
      info: a catalog entry with a ``tfds_name``.
      split: a TFDS split, e.g. ``"train"`` or ``"train[:10%]"``.
      data_dir: TFDS data dir root; ``None`` means TFDS's default.
      manual_dir: directory with the dataset's original files, for offline preparation.
      shuffle_files: shuffle the order of the record files.
      seed: seed for the file shuffle.
      download: if False, never prepare; raise if not prepared.

    Returns:
      A dataset of ``(image, label)``; label is 0 for datasets without labels.

    Raises:
      DatasetNotPreparedError: when the dataset is not prepared and cannot be.
    """
    import tensorflow_datasets as tfds  # Heavy import; the embedded source does not need it.

    builder = prepared_builder(info, data_dir=data_dir, manual_dir=manual_dir, download=download)
    ds = builder.as_dataset(split=split, shuffle_files=shuffle_files, read_config=tfds.ReadConfig(shuffle_seed=seed))
    if info.has_labels:
        return ds.map(lambda ex: (ex["image"], ex["label"]), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(lambda ex: (ex["image"], tf.constant(0, tf.int64)), num_parallel_calls=tf.data.AUTOTUNE)


def fashion_mnist_arrays(split: str, source: str = "embedded", data_dir=None, manual_dir=None):
    """Fashion-MNIST as numpy: ``(images uint8 [N, 28, 28, 1], labels int [N])``.

    Args:
      split: ``"train"`` or ``"test"``.
      source: ``"embedded"`` (the subset shipped with kgan, no TFDS) or
        ``"fashion_mnist"`` (all of it via TFDS; prepared offline from the
        Debian package when that is installed).
      data_dir, manual_dir: TFDS arguments for ``source="fashion_mnist"``.
    """
    if source == "embedded":
        return embedded.load_embedded_fashion_mnist(split)
    if source != "fashion_mnist":
        raise ValueError(f"source must be 'embedded' or 'fashion_mnist'; got {source!r}.")
    examples = tfds_examples(dataset_info("fashion_mnist"), split, data_dir=data_dir, manual_dir=manual_dir)
    batches = list(examples.batch(10_000).as_numpy_iterator())
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
