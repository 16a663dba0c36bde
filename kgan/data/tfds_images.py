"""``tfds:NAME[/CONFIG]``: any TFDS image dataset, its image and label features found from ``info.features``.

The image feature is the top-level `tfds.features.Image` called ``image``, or
the only one; the label feature the `tfds.features.ClassLabel` called
``label``, or the only one (none: unlabelled). Preparation follows the
catalogue's rules (`kgan.data.sources.prepared_builder`): ``data_dir``,
``manual_dir``, and a quick offline answer instead of minutes of retries.
"""

from __future__ import annotations

import dataclasses
import os

import tensorflow as tf

from kgan.data import sources
from kgan.data.catalog import ImageDatasetInfo


@dataclasses.dataclass(frozen=True)
class TfdsImageFeatures:
    """Which features of a TFDS dataset kgan reads.

    Attributes:
      image_key: the image feature's key.
      label_key: the class label feature's key, or None.
      shape: the image feature's ``(H, W, C)``; H and W are None when images vary in size.
      class_names: the label's names (empty without a label).
      splits: split -> examples (empty when TFDS does not know yet).
    """

    image_key: str
    label_key: str | None
    shape: tuple
    class_names: tuple
    splits: dict


def _pick(features: dict, kind, preferred: str, what: str, name: str, required: bool):
    found = [k for k, f in features.items() if isinstance(f, kind)]
    if preferred in found:
        return preferred
    if len(found) == 1:
        return found[0]
    if not found and not required:
        return None
    listed = ", ".join(f"{k} ({type(f).__name__})" for k, f in features.items())
    problem = f"has no {what} feature" if not found else f"has several {what} features ({', '.join(found)})"
    raise ValueError(f"tfds:{name} {problem}; its features are: {listed}. kgan reads one top-level image and an optional ClassLabel.")


def image_features(name: str, data_dir=None) -> TfdsImageFeatures:
    """Finds the image and label features of TFDS ``name`` (``"cars196"``, ``"mnist"``, ``"cycle_gan/horse2zebra"``...).

    Raises:
      ValueError: an unknown name (TFDS's message), or no single image feature.
    """
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=os.fspath(data_dir) if data_dir is not None else None)
    except Exception as error:  # DatasetNotFoundError and friends: say it in kgan's words.
        raise ValueError(f"tfds:{name} is not a TFDS dataset this installation knows ({type(error).__name__}: {error}).") from None
    features = dict(builder.info.features.items()) if hasattr(builder.info.features, "items") else {}
    image_key = _pick(features, tfds.features.Image, "image", "image", name, required=True)
    label_key = _pick(features, tfds.features.ClassLabel, "label", "ClassLabel", name, required=False)
    image = features[image_key]
    shape = tuple(image.shape)
    class_names = tuple(features[label_key].names) if label_key else ()
    splits = {s: info.num_examples for s, info in builder.info.splits.items()}
    return TfdsImageFeatures(image_key, label_key, shape, class_names, splits)


def tfds_examples(name: str, features: TfdsImageFeatures, split: str, *, data_dir=None, manual_dir=None,
                  shuffle_files=False, seed=None, download=True) -> tf.data.Dataset:
    """A split as ``(image uint8 [H, W, C], label int64)``; label 0 when the dataset has none."""
    import tensorflow_datasets as tfds

    info = ImageDatasetInfo(
        name=f"tfds:{name}", image_shape=features.shape, num_classes=len(features.class_names) or None,
        class_names=features.class_names, splits=features.splits, tfds_name=name, source_shape=features.shape,
    )
    builder = sources.prepared_builder(info, data_dir=data_dir, manual_dir=manual_dir, download=download)
    ds = builder.as_dataset(split=split, shuffle_files=shuffle_files, read_config=tfds.ReadConfig(shuffle_seed=seed))
    image_key, label_key = features.image_key, features.label_key
    if label_key:
        return ds.map(lambda ex: (ex[image_key], tf.cast(ex[label_key], tf.int64)), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(lambda ex: (ex[image_key], tf.constant(0, tf.int64)), num_parallel_calls=tf.data.AUTOTUNE)
