"""Mode count of stacked images: which of the K**C class combinations a generator's samples reach.

The stacked-MNIST measure of Srivastava et al. 2017 ("VEEGAN", Sec. 5.2) and
Lin et al. 2018 ("PacGAN", Table 2): a domain classifier labels every channel
of every sample; a sample's mode is its channels' class tuple; the score is
the number of distinct modes among the samples (26,000 in both papers) and the
reverse KL of the mode histogram to the uniform distribution over all K**C
modes, KL(p_samples || uniform).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from kgan.data.stacked import mode_of_classes
from kgan.metrics.classifier import predict_classes
from kgan.metrics.mode_coverage import histogram_kl

#: The papers' sample count.
DEFAULT_NUM_SAMPLES = 26_000


@dataclasses.dataclass(frozen=True)
class StackedModes:
    """The modes of stacked samples.

    Attributes:
      modes: distinct class tuples among the samples (a mode with >= 1 sample,
        the papers' count); at most ``num_modes``.
      num_modes: K**C.
      reverse_kl: ``KL(histogram || uniform)`` in nats: 0 for samples spread
        evenly over every mode, ``log(num_modes)`` for one mode.
      counts: int64 ``[num_modes]`` samples per mode (mode = the classes as
        base-K digits, channel 0 first; `kgan.data.stacked.mode_of_classes`).
      channel_shares: float ``[C, K]``: each channel's class histogram (rows
        sum to 1); a class a generator rarely draws drags down every mode
        containing it.
    """

    modes: int
    num_modes: int
    reverse_kl: float
    counts: np.ndarray
    channel_shares: np.ndarray


def stacked_mode_coverage(classifier: keras.Model, images, batch_size: int = 500) -> StackedModes:
    """Counts the modes of stacked ``images`` with a one-channel ``classifier``.

    Args:
      classifier: images ``[B, H, W, 1]`` in [-1, 1] -> logits ``[B, K]``
        (e.g. `kgan.metrics.load_classifier("fashion_mnist")`).
      images: ``[N, H, W, C]`` samples in [-1, 1], C >= 1 (3 for stacked MNIST).
      batch_size: classifier batch size.

    Raises:
      ValueError: ``images`` is not ``[N, H, W, C]`` with N >= 1, or holds
        non-finite values (a diverged generator's samples).
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must be [N, H, W, C] with N >= 1; got shape {images.shape}.")
    if not np.all(np.isfinite(images)):
        raise ValueError("images hold NaN or infinite values; a diverged generator has no modes to count.")
    channels = images.shape[-1]
    num_classes = int(classifier.output_shape[-1])
    classes = np.stack([predict_classes(classifier, images[..., c : c + 1], batch_size) for c in range(channels)], axis=1)
    num_modes = num_classes**channels
    counts = np.bincount(mode_of_classes(classes, num_classes), minlength=num_modes).astype(np.int64)
    shares = np.stack([np.bincount(classes[:, c], minlength=num_classes) / len(classes) for c in range(channels)])
    return StackedModes(int(np.count_nonzero(counts)), int(num_modes), histogram_kl(counts), counts, shares)
