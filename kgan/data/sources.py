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
import socket
import threading
import time
import urllib.parse
import urllib.request

import numpy as np
import tensorflow as tf

from kgan.data import embedded, offline
from kgan.data.catalog import ImageDatasetInfo, dataset_info

logger = logging.getLogger(__name__)


class DatasetNotPreparedError(RuntimeError):
    """A TFDS dataset is not prepared in the data dir and could not be prepared."""


# How long the download hosts get to accept a connection before we call the machine offline. Offline,
# TFDS's downloader retries every URL (urllib3 Retry(total=10, backoff_factor=0.2) sleeps 0.4 + 0.8
# + ... + 102.4 s), so `--dataset=celeb_a` printed its "not prepared" message after 3 min 24 s.
CONNECT_TIMEOUT_SECONDS = 5.0
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
_MAX_PROBED_HOSTS = 8


def _download_endpoints(builder) -> list:
    """``(host, port)`` pairs TFDS would connect to for the builder's URLs: the proxy's where one applies."""
    proxies = urllib.request.getproxies()  # The environment's *_proxy variables, as requests reads them.
    endpoints = []
    for url in builder.url_infos or {}:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            continue
        proxy = proxies.get(parts.scheme) or proxies.get("all")
        if proxy and not urllib.request.proxy_bypass(parts.hostname):
            parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        try:
            endpoint = (parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme, 80))
        except ValueError:  # A malformed port: leave this URL to TFDS.
            continue
        if endpoint[0] and endpoint not in endpoints:
            endpoints.append(endpoint)
    return endpoints[:_MAX_PROBED_HOSTS]


def _any_reachable(endpoints, timeout: float) -> bool:
    """Whether any endpoint accepts a TCP connection within ``timeout`` seconds (all probed at once).

    Daemon threads, because a DNS lookup ignores socket timeouts: one that hangs must not
    hold up the answer or the interpreter's exit.
    """
    answered = threading.Event()

    def probe(endpoint):
        try:
            socket.create_connection(endpoint, timeout=timeout).close()
            answered.set()
        except OSError:
            pass

    threads = [threading.Thread(target=probe, args=(e,), daemon=True) for e in endpoints]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    # The first answer decides; all probes failing ends the wait early too.
    while time.monotonic() < deadline and any(thread.is_alive() for thread in threads):
        if answered.wait(0.05):
            return True
    return answered.is_set()


def _uses_tfds_downloader(builder) -> bool:
    """Whether ``download_and_prepare`` is TFDS's own (whose retries take minutes offline).

    Stand-ins such as `tfds.testing.mock_data`'s no-op need no network, so they are not probed.
    """
    method = type(builder).download_and_prepare
    return getattr(method, "__qualname__", "") == "DatasetBuilder.download_and_prepare" and getattr(
        method, "__module__", ""
    ).startswith("tensorflow_datasets.")


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
    if manual_dir is None and _uses_tfds_downloader(builder):
        # Offline, TFDS retries each URL with back-off for minutes before it gives up: find out in
        # seconds whether a download host answers. (With manual_dir TFDS reads the files there.)
        endpoints = _download_endpoints(builder)
        if endpoints and not _any_reachable(endpoints, CONNECT_TIMEOUT_SECONDS):
            hosts = ", ".join(f"{host}:{port}" for host, port in endpoints)
            raise DatasetNotPreparedError(
                f"{_how_to_prepare(info, builder)} Preparing it needs a download, but kgan cannot reach {hosts} "
                f"within {CONNECT_TIMEOUT_SECONDS:g} s (no internet connection?), so no download was attempted "
                "(TFDS's downloader would retry for minutes before failing)."
            )
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
