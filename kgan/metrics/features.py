"""Feature networks for distribution metrics (FID, KID, precision/recall).

Two feature spaces:

* ``"inception"``: pool3 (2048-d) of the FID InceptionV3 (Szegedy et al. 2016
  as frozen for Heusel et al. 2017; `kgan.metrics.inception`). FID and KID
  in this space are the numbers papers quote. Much slower than the
  classifier on a CPU (each image is resized to 299x299; bench/feature_speed.py
  measures both).
* ``"classifier"``: the 128-d ``features`` layer of kgan's Fashion-MNIST/MNIST
  evaluation classifier (`kgan.metrics.load_classifier`). Cheap enough for
  evaluation during training; its "FID" is comparable only with itself.

The Inception network resizes every image to 299x299 in one of two ways
(``resize``, `kgan.metrics.inception.RESIZE_MODES`): ``"legacy"``, TF1's
bilinear resize as the TTUR graph (the standard FID, the default), or
``"clean"``, clean-fid's PIL bicubic (Parmar et al. 2022). The two give
different features, so the extractor's ``name`` (which keys cached reference
features) differs: ``"inception"`` and ``"inception:clean"``. The classifier
reads its 28x28 images as they are and has no resize.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FEATURE_SPACES", "FeatureExtractor", "feature_extractor", "space_resize"]

FEATURE_SPACES = ("inception", "classifier")


class FeatureExtractor:
    """Images ``[N, H, W, C]`` float32 in [-1, 1] -> features float32 ``[N, D]``, in batches.

    Attributes:
      name: the feature space (``"inception"``, ``"inception:clean"`` or
        ``"classifier:<dataset>"``), stored with cached reference features so
        spaces are never mixed.
      network: the Keras model.
      batch_size: images per forward pass.
      resize: how the network resizes its input (``"legacy"`` or ``"clean"``
        for Inception), or None for a network that takes images as they are.
    """

    def __init__(self, name: str, network, batch_size: int, resize: str | None = None):
        import tensorflow as tf

        self.name, self.network, self.batch_size, self.resize = name, network, batch_size, resize
        # One graph per input shape, not an eager layer-by-layer pass per batch.
        self._forward = tf.function(lambda images: network(images, training=False), reduce_retracing=True)

    def __call__(self, images) -> np.ndarray:
        images = np.asarray(images, np.float32)
        if images.ndim != 4:
            raise ValueError(f"images must be [N, H, W, C]; got shape {images.shape}.")
        if images.size and (images.min() < -1.0 - 1e-6 or images.max() > 1.0 + 1e-6):
            raise ValueError(
                f"images must be float32 in [-1, 1] (kgan's range); got values in [{images.min():.3g}, {images.max():.3g}]. "
                "Convert uint8 pixels with kgan.data.to_model_range."
            )
        outputs = [
            np.asarray(self._forward(images[start:start + self.batch_size]), np.float32)
            for start in range(0, len(images), self.batch_size)
        ]
        return np.concatenate(outputs) if outputs else np.zeros((0, self.network.output_shape[-1]), np.float32)


def space_resize(space: str, resize: str = "legacy") -> str | None:
    """The resize of feature space ``space`` given ``resize``: ``resize`` for Inception, None for the classifier.

    Raises:
      ValueError: ``resize`` is not one of `kgan.metrics.inception.RESIZE_MODES`,
        or is ``"clean"`` for the classifier (which has no resize; only the
        default is accepted there).
    """
    from kgan.metrics.inception import check_resize

    check_resize(resize)
    if space == "inception":
        return resize
    if resize != "legacy":
        raise ValueError(
            f"resize={resize!r} applies to the Inception features (images resized to 299x299); the {space!r} "
            "features read their images as they are. Use features='inception' or leave resize at its default."
        )
    return None


def feature_extractor(space: str = "inception", *, weights_path=None, classifier_dataset: str = "fashion_mnist",
                      cache_dir=None, batch_size: int | None = None, resize: str = "legacy") -> FeatureExtractor:
    """The feature network of ``space`` (see the module docstring).

    Args:
      space: ``"inception"`` or ``"classifier"``.
      weights_path: the FID InceptionV3 weights (``"inception"``); default:
        found by `kgan.metrics.inception.locate_weights`.
      classifier_dataset: ``"fashion_mnist"`` or ``"mnist"`` (``"classifier"``).
      cache_dir: kgan's cache (where the classifier is kept).
      batch_size: default 50 (inception) or 500 (classifier).
      resize: ``"legacy"`` (default) or ``"clean"``, the Inception resize
        (module docstring); the classifier accepts only the default.
    """
    if space not in FEATURE_SPACES:
        raise ValueError(f"Unknown feature space {space!r}; choose one of {FEATURE_SPACES}.")
    resize = space_resize(space, resize)
    if space == "inception":
        from kgan.metrics import inception

        network = inception.fid_inception_v3(weights_path=weights_path, resize=resize)
        # Legacy keeps the plain name, so reference features cached before resize modes existed stay valid.
        name = "inception" if resize == "legacy" else f"inception:{resize}"
        return FeatureExtractor(name, network, batch_size or 50, resize=resize)
    from kgan.metrics.classifier import classifier_features, load_classifier

    network = classifier_features(load_classifier(classifier_dataset, cache_dir=cache_dir))
    return FeatureExtractor(f"classifier:{classifier_dataset}", network, batch_size or 500)
