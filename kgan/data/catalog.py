"""Static facts about the datasets `kgan.data.load_images` knows.

Lets models and training binaries size their networks (image shape, number of
classes) without touching TFDS or loading any data.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping

_FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@dataclasses.dataclass(frozen=True)
class ImageDatasetInfo:
    """What `load_images(name, image_size=...)` yields, known without loading.

    Attributes:
      name: the name passed to `load_images`.
      image_shape: ``(H, W, C)`` of the images `load_images` yields (float32 in
        [-1, 1]) for the ``image_size`` this info was made for.
      num_classes: number of class labels, or ``None`` if the dataset has none
        (``celeb_a`` has 40 binary attributes, not classes).
      class_names: label ``i`` is ``class_names[i]``; empty without labels.
      splits: official split name -> number of examples.
      tfds_name: the TFDS dataset name, or ``None`` for data shipped with kgan.
      source_shape: ``(H, W, C)`` of the stored images before crop/resize.
      center_crop: side of the central square crop applied before resizing, or
        ``None`` for no crop.
      skipped: ``(path, reason)`` of the bad files a ``folder:`` source leaves
        out (`kgan.data.image_folder`); empty for every other source.
    """

    name: str
    image_shape: tuple[int, int, int]
    num_classes: int | None
    class_names: tuple[str, ...]
    splits: Mapping[str, int]
    tfds_name: str | None
    source_shape: tuple[int, int, int]
    center_crop: int | None = None
    skipped: tuple = ()

    @property
    def has_labels(self) -> bool:
        return self.num_classes is not None

    @property
    def channels(self) -> int:
        return self.image_shape[-1]


_CATALOG: dict[str, ImageDatasetInfo] = {
    info.name: info
    for info in (
        ImageDatasetInfo(
            name="embedded_fashion_mnist",
            image_shape=(28, 28, 1),
            num_classes=10,
            class_names=_FASHION_MNIST_CLASSES,
            splits=types.MappingProxyType({"train": 6000, "test": 1000}),
            tfds_name=None,
            source_shape=(28, 28, 1),
        ),
        ImageDatasetInfo(
            name="mnist",
            image_shape=(28, 28, 1),
            num_classes=10,
            class_names=tuple(str(d) for d in range(10)),
            splits=types.MappingProxyType({"train": 60000, "test": 10000}),
            tfds_name="mnist",
            source_shape=(28, 28, 1),
        ),
        ImageDatasetInfo(
            name="fashion_mnist",
            image_shape=(28, 28, 1),
            num_classes=10,
            class_names=_FASHION_MNIST_CLASSES,
            splits=types.MappingProxyType({"train": 60000, "test": 10000}),
            tfds_name="fashion_mnist",
            source_shape=(28, 28, 1),
        ),
        ImageDatasetInfo(
            name="cifar10",
            image_shape=(32, 32, 3),
            num_classes=10,
            class_names=_CIFAR10_CLASSES,
            splits=types.MappingProxyType({"train": 50000, "test": 10000}),
            tfds_name="cifar10",
            source_shape=(32, 32, 3),
        ),
        ImageDatasetInfo(
            name="celeb_a",
            # The usual GAN preprocessing: central 178x178 face crop, resized to 64x64.
            image_shape=(64, 64, 3),
            num_classes=None,
            class_names=(),
            splits=types.MappingProxyType({"train": 162770, "validation": 19867, "test": 19962}),
            tfds_name="celeb_a",
            source_shape=(218, 178, 3),
            center_crop=178,
        ),
    )
}

KNOWN_DATASETS: tuple[str, ...] = tuple(_CATALOG)


def normalize_image_size(image_size) -> tuple[int, int] | None:
    """Turns ``None``, ``s`` or ``(h, w)`` into ``None`` or ``(h, w)``.

    Raises:
      ValueError: for non-positive or non-integer sizes.
    """
    if image_size is None:
        return None
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(size) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size):
        raise ValueError(f"image_size must be a positive int or a (height, width) pair of positive ints, got {image_size!r}.")
    return size


def dataset_info(name: str, image_size=None, **options) -> ImageDatasetInfo:
    """Looks up a known dataset, or checks a user source and describes it.

    Args:
      name: one of `KNOWN_DATASETS`, or a user source (``folder:PATH``,
        ``npz:PATH[:KEY]``, ``npy:PATH``, ``tfds:NAME[/CONFIG]``), which
        `kgan.data.user_data.describe` checks (folders: every file's header).
      image_size: the ``image_size`` you will pass to `load_images` (``None``,
        an int or ``(h, w)``); it sets ``image_shape``'s height and width.
      **options: for user sources, `kgan.data.user_data.describe`'s
        ``channels``, ``crop``, ``on_bad_image`` and ``data_dir``.

    Returns:
      An `ImageDatasetInfo`, e.g. for ``"cifar10"``: ``image_shape=(32, 32, 3)``,
      ``num_classes=10``.

    Raises:
      ValueError: for an unknown name (the message lists the known names) or a
        bad ``image_size``.
    """
    from kgan.data import specs

    if specs.is_user_source(name):
        from kgan.data import user_data  # It reads files and TFDS; the catalogue needs neither.

        return user_data.describe(name, image_size, **options)
    if name not in _CATALOG:
        raise ValueError(
            f"Unknown dataset {name!r}. Known datasets: {', '.join(KNOWN_DATASETS)}; or your own: {specs.SOURCE_FORMS}."
        )
    info = _CATALOG[name]
    size = normalize_image_size(image_size) or info.image_shape[:2]
    channels = options.get("channels") or info.image_shape[-1]  # crop/on_bad_image concern user sources only.
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1, 3 or None (as the data is); got {channels!r}.")
    return dataclasses.replace(info, image_shape=(*size, channels))
