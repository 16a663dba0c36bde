"""Images with domain attributes for multi-domain translation (StarGAN).

`load_attribute_images(name, split, batch_size)` yields ``(images, attributes)``
batches: float32 images ``[B, H, W, C]`` in [-1, 1] and float32 0/1 attributes
``[B, K]``. Sources:

* ``"tinted_fashion_mnist"``: an offline demo whose attributes are known by
  construction. Real Fashion-MNIST images (the embedded subset) are rendered
  in RGB with one of three colour tints -- ``red``, ``green``, ``blue``,
  mutually exclusive like CelebA's hair colours -- and, independently, with
  the grayscale ``inverted`` or not (bright background, dark garment): K = 4
  attributes. Each image's attributes are drawn once from a fixed seed; its
  garment class is kept for checking that translation preserves content.
  ``"tinted_fashion_mnist_full"`` is the same on all of Fashion-MNIST (TFDS,
  prepared offline from the Debian package when present).
* ``"tinted_shaded_fashion_mnist"``: two datasets with different label sets
  for StarGAN's mask vector (Choi et al. 2018, sec. 3.2; CelebA + RaFD in
  the paper), both known by construction: the first half of each embedded
  Fashion-MNIST split rendered as ``"tinted_fashion_mnist"`` (4 attributes,
  multi_label), the other half in gray at one of three brightness levels
  ``dark``, ``medium``, ``bright`` (single_label; a per-pixel gain, so the
  garment survives a translation). Labels are the unified vectors
  ``[tint (4), brightness (3), mask (2)]`` of `TINTED_SHADED_GROUPS`
  (`kgan.label_groups`), batches mixed by `combine_attribute_sources`.
  ``"tinted_shaded_fashion_mnist_full"``: the same on all of Fashion-MNIST.
* ``"celeb_a"``: TFDS CelebA with selectable binary attributes (default the
  StarGAN paper's Black_Hair, Blond_Hair, Brown_Hair, Male, Young), centre
  crop 178x178, resize to ``image_size`` (128).
* ``"folder:PATH"``: the user's images with a CSV of attributes laid out as
  CelebA's ``list_attr_celeba.csv`` (`kgan.data.attribute_folder`: where the
  CSV is, its value conventions, and what is refused, dropped or warned
  about before training). Unset attributes -- or the CelebA default when the
  CSV lacks those columns -- mean every column of the CSV.
* any ``(images, attributes)`` arrays: `attribute_dataset`;
* several datasets with different label sets: `combine_attribute_sources`.

`describe_attribute_data` says what a source yields (shapes, splits,
attribute names, what was left out) without loading it.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf

from kgan import label_groups as label_groups_lib
from kgan.data import attribute_folder, sources, specs
from kgan.data.catalog import ImageDatasetInfo, dataset_info
from kgan.data.preprocessing import center_crop, resize_uint8
from kgan.data.ranges import to_model_range

TINT_ATTRIBUTES = ("red", "green", "blue", "inverted")
COLOURS = TINT_ATTRIBUTES[:3]
CELEB_A_DEFAULT_ATTRIBUTES = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young")
TINTED_SOURCES = {"tinted_fashion_mnist": "embedded", "tinted_fashion_mnist_full": "fashion_mnist"}
BRIGHTNESS_ATTRIBUTES = ("dark", "medium", "bright")
# The two-dataset demos (sec. 3.2): each over the images of the tinted demo it names.
TINTED_SHADED_SOURCES = {"tinted_shaded_fashion_mnist": "tinted_fashion_mnist",
                         "tinted_shaded_fashion_mnist_full": "tinted_fashion_mnist_full"}
TINTED_SHADED_GROUP_NAMES = ("tint", "brightness")
TINTED_SHADED_GROUPS = ((len(TINT_ATTRIBUTES), "multi_label"), (len(BRIGHTNESS_ATTRIBUTES), "single_label"))
TINTED_SHADED_ATTRIBUTES = (*TINT_ATTRIBUTES, *BRIGHTNESS_ATTRIBUTES, *(f"known:{g}" for g in TINTED_SHADED_GROUP_NAMES))
# The demos whose label vectors are rendered into their images: no other attribute names.
FIXED_ATTRIBUTES = {**{name: TINT_ATTRIBUTES for name in TINTED_SOURCES},
                    **{name: TINTED_SHADED_ATTRIBUTES for name in TINTED_SHADED_SOURCES}}
ATTRIBUTE_DATASETS = (*TINTED_SOURCES, *TINTED_SHADED_SOURCES, "celeb_a")
# The options only a folder: source takes, and their defaults (other sources refuse any other value).
FOLDER_OPTION_DEFAULTS = {"attributes_file": None, "channels": None, "crop": "center", "on_bad_image": "skip"}
# Channel gains of a tint: the tint's own channel at full strength, the others dimmed.
_TINT_FLOOR = 0.3
_ATTRIBUTE_SEED = {"train": 101, "test": 202}
# Gray-level gains of dark, medium, bright: far enough apart for a classifier, and the darkest
# still shows the garment.
_BRIGHTNESS_GAINS = (0.35, 0.65, 1.0)


def render_attributes(gray, attributes) -> np.ndarray:
    """Renders grayscale images with tint/inversion attributes.

    Args:
      gray: uint8 ``[N, H, W, 1]``.
      attributes: 0/1 ``[N, 4]`` as `TINT_ATTRIBUTES` (red, green, blue,
        inverted); the three colours are exclusive (exactly one is 1).

    Returns:
      uint8 ``[N, H, W, 3]``: ``(inverted ? 255 - g : g) * gain``, where the
      gain is 1 on the tint's channel and 0.3 on the others.
    """
    gray = np.asarray(gray, np.float32)
    attributes = np.asarray(attributes, np.float32)
    if gray.ndim != 4 or gray.shape[-1] != 1:
        raise ValueError(f"gray must be [N, H, W, 1]; got {gray.shape}.")
    if attributes.shape != (len(gray), len(TINT_ATTRIBUTES)) or not np.all(attributes[:, :3].sum(-1) == 1):
        raise ValueError("attributes must be [N, 4] (red, green, blue, inverted) with exactly one colour per row.")
    inverted = attributes[:, 3][:, None, None, None]
    base = inverted * (255.0 - gray) + (1.0 - inverted) * gray
    gains = _TINT_FLOOR + (1.0 - _TINT_FLOOR) * attributes[:, None, None, :3]
    return np.clip(np.rint(base * gains), 0, 255).astype(np.uint8)


def random_tint_attributes(count: int, seed: int) -> np.ndarray:
    """``[count, 4]`` float32: a uniform colour and a fair coin for ``inverted`` per image."""
    rng = np.random.default_rng(seed)
    attributes = np.zeros((count, len(TINT_ATTRIBUTES)), np.float32)
    attributes[np.arange(count), rng.integers(0, len(COLOURS), count)] = 1.0
    attributes[:, 3] = rng.integers(0, 2, count)
    return attributes


def render_brightness(gray, levels) -> np.ndarray:
    """Renders grayscale images at brightness levels, in RGB (the tinted demo's shape).

    Args:
      gray: uint8 ``[N, H, W, 1]``.
      levels: one-hot ``[N, 3]`` as `BRIGHTNESS_ATTRIBUTES` (dark, medium, bright).

    Returns:
      uint8 ``[N, H, W, 3]``: ``g * gain`` on every channel, gains 0.35,
      0.65 and 1.0.
    """
    gray = np.asarray(gray, np.float32)
    levels = np.asarray(levels, np.float32)
    if gray.ndim != 4 or gray.shape[-1] != 1:
        raise ValueError(f"gray must be [N, H, W, 1]; got {gray.shape}.")
    if levels.shape != (len(gray), len(BRIGHTNESS_ATTRIBUTES)) or not np.all(levels.sum(-1) == 1):
        raise ValueError("levels must be [N, 3] (dark, medium, bright), one-hot per row.")
    gains = levels @ np.asarray(_BRIGHTNESS_GAINS, np.float32)
    return np.clip(np.rint(np.repeat(gray, 3, axis=-1) * gains[:, None, None, None]), 0, 255).astype(np.uint8)


def random_brightness_levels(count: int, seed: int) -> np.ndarray:
    """``[count, 3]`` float32 one-hot: a uniform brightness level per image."""
    rng = np.random.default_rng(seed)
    return np.eye(len(BRIGHTNESS_ATTRIBUTES), dtype=np.float32)[rng.integers(0, len(BRIGHTNESS_ATTRIBUTES), count)]


def label_groups_of(name: str):
    """``label_groups`` of a source whose labels are unified vectors (`kgan.label_groups`), else None."""
    return TINTED_SHADED_GROUPS if name in TINTED_SHADED_SOURCES else None


def is_attribute_folder(name) -> bool:
    """Whether ``name`` is a ``folder:PATH`` source (images with a CSV of attributes)."""
    return specs.is_user_source(name) and name.split(":", 1)[0] == "folder"


def read_folder(name: str, attributes=None, *, attributes_file=None, image_size=None, channels=None, crop="center",
                on_bad_image="skip") -> attribute_folder.AttributeFolder:
    """``folder:PATH`` and its CSV, checked (`kgan.data.attribute_folder.read_attribute_folder`).

    ``attributes`` equal to `CELEB_A_DEFAULT_ATTRIBUTES` (the config's
    default) falls back to every column when the CSV lacks some of them.
    """
    return attribute_folder.read_attribute_folder(
        specs.parse_source(name).location, attributes, attributes_file,
        fallback_to_all=tuple(attributes or ()) == CELEB_A_DEFAULT_ATTRIBUTES,
        image_size=image_size, channels=channels, crop=crop, on_bad_image=on_bad_image,
    )


@dataclasses.dataclass(frozen=True)
class AttributeDataInfo:
    """What `load_attribute_images` yields for a source, known before training.

    Attributes:
      info: the images: ``image_shape``, ``splits`` (for folders: the images
        with a row of attributes), ``skipped`` (unusable files and images
        without a row).
      attribute_names: the attribute vector's entries, in order.
      attributes_file: the CSV of a folder source, else None.
      dropped_rows: ``(line, name, reason)`` of CSV rows naming no usable image.
      warnings: problems that do not stop training (an attribute that never changes).
      label_groups: ``((size, kind), ...)`` when the labels are unified
        vectors of several datasets (`kgan.label_groups`), else None.
    """

    info: ImageDatasetInfo
    attribute_names: tuple
    attributes_file: str | None = None
    dropped_rows: tuple = ()
    warnings: tuple = ()
    label_groups: tuple | None = None


def describe_attribute_data(name: str, *, attributes=None, image_size=None, data_dir=None, manual_dir=None,
                            **folder_options) -> AttributeDataInfo:
    """Checks a source of `load_attribute_images` and says what it yields (folders: headers and the CSV, no pixels).

    Args:
      name, attributes, image_size: as `load_attribute_images`.
      data_dir, manual_dir: accepted for symmetry with `load_attribute_images`;
        describing reads no TFDS data.
      **folder_options: ``attributes_file``, ``channels``, ``crop``,
        ``on_bad_image`` of a ``folder:`` source (`read_folder`).

    Raises:
      ValueError: an unknown name; for folders, every refusal of
        `kgan.data.attribute_folder`; FileNotFoundError: no folder or no CSV.
    """
    del data_dir, manual_dir
    if is_attribute_folder(name):
        folder = read_folder(name, attributes, image_size=image_size, **folder_options)
        return AttributeDataInfo(folder.info, folder.attribute_names, folder.attributes_file, folder.dropped_rows,
                                 folder.warnings)
    _refuse_folder_options(name, folder_options)
    if name in FIXED_ATTRIBUTES:
        tinted = TINTED_SHADED_SOURCES.get(name, name)  # Both halves of a two-dataset demo: its tinted demo's splits.
        source = "embedded_fashion_mnist" if TINTED_SOURCES[tinted] == "embedded" else "fashion_mnist"
        splits = dict(dataset_info(source).splits)
        info = ImageDatasetInfo(name=name, image_shape=(28, 28, 3), num_classes=None, class_names=(), splits=splits,
                                tfds_name=dataset_info(source).tfds_name, source_shape=(28, 28, 3))
        return AttributeDataInfo(info, FIXED_ATTRIBUTES[name], label_groups=label_groups_of(name))
    if name != "celeb_a":
        raise ValueError(f"Unknown attribute dataset {name!r}; choose one of {', '.join(ATTRIBUTE_DATASETS)} or folder:PATH.")
    return AttributeDataInfo(dataset_info("celeb_a", image_size or 128), tuple(attributes or CELEB_A_DEFAULT_ATTRIBUTES))


def _refuse_folder_options(name, folder_options) -> None:
    """Folder-only options set for another source: refused rather than silently ignored."""
    unknown = sorted(set(folder_options) - set(FOLDER_OPTION_DEFAULTS))
    if unknown:
        raise TypeError(f"Unexpected argument(s) {', '.join(unknown)}.")
    given = [k for k, v in folder_options.items() if v != FOLDER_OPTION_DEFAULTS[k]]
    if given:
        raise ValueError(f"{', '.join(given)} apply to folder:PATH sources only, not to {name!r}.")


def split_size(name: str, split: str, **options) -> int | None:
    """Examples in ``split`` of ``name`` where known without loading: the tinted demos have their source's.

    ``options``: `describe_attribute_data`'s, for ``folder:`` sources (images with a row of attributes).
    """
    if is_attribute_folder(name) or name in FIXED_ATTRIBUTES:
        return describe_attribute_data(name, **options).info.splits.get(split)
    return dataset_info(name).splits.get(split)


def tinted_arrays(name: str = "tinted_fashion_mnist", split: str = "train", data_dir=None, manual_dir=None):
    """The tinted demo as arrays: ``(images uint8 [N, 28, 28, 3], attributes float32 [N, 4], classes int [N])``.

    Deterministic: the attributes of a split are drawn from a fixed seed.
    """
    if name not in TINTED_SOURCES:
        raise ValueError(f"Unknown tinted dataset {name!r}; choose one of {', '.join(TINTED_SOURCES)}.")
    if split not in _ATTRIBUTE_SEED:
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}.")
    gray, classes = sources.fashion_mnist_arrays(split, TINTED_SOURCES[name], data_dir, manual_dir)
    attributes = random_tint_attributes(len(gray), _ATTRIBUTE_SEED[split])
    return render_attributes(gray, attributes), attributes, np.asarray(classes, np.int64)


def tinted_perfect_translations(targets, name: str = "tinted_fashion_mnist", split: str = "test", data_dir=None,
                                manual_dir=None) -> np.ndarray:
    """What a perfect translator returns for the tinted demo's images of ``split`` and ``targets``: uint8 ``[N, 28, 28, 3]``.

    The attributes are rendered into the images (`render_attributes`), so
    the right translation of image i to ``targets[i]`` (0/1 ``[N, 4]``) is
    its gray source rendered with those attributes: the ground truth a
    translation can be measured against, which a judge's verdict is not.
    """
    if name not in TINTED_SOURCES:
        raise ValueError(f"Unknown tinted dataset {name!r}; choose one of {', '.join(TINTED_SOURCES)}.")
    return render_attributes(_gray_sources(name, split, len(targets), data_dir, manual_dir), targets)


def tinted_shaded_perfect_translations(targets, name: str = "tinted_shaded_fashion_mnist", split: str = "test",
                                       data_dir=None, manual_dir=None) -> np.ndarray:
    """What a perfect translator returns for a two-dataset demo's ``split`` and ``targets``: uint8 ``[N, 28, 28, 3]``.

    Row i of `tinted_shaded_arrays` -- tinted or shaded -- is rendered from
    the split's gray image i, so its right translation to the unified
    ``targets[i]`` (0/1 ``[N, 9]``, `TINTED_SHADED_GROUPS`) is that gray
    image rendered in the group the target's mask names: `render_attributes`
    with the tint entries, or `render_brightness` with the brightness
    entries. A target of the other dataset thus asks for that dataset's look
    (a tinted image asked for ``bright`` becomes gray).

    Raises:
      ValueError: an unknown name, not one target row per image, or a row
        that is no valid unified label vector (`kgan.label_groups.check_unified_labels`;
        a tint row must also name exactly one colour).
    """
    if name not in TINTED_SHADED_SOURCES:
        raise ValueError(f"Unknown two-dataset demo {name!r}; choose one of {', '.join(TINTED_SHADED_SOURCES)}.")
    targets = np.asarray(targets, np.float32)
    gray = _gray_sources(name, split, len(targets), data_dir, manual_dir)
    width = label_groups_lib.unified_size(TINTED_SHADED_GROUPS)
    if targets.shape != (len(gray), width):
        raise ValueError(f"targets must be unified labels [N, {width}] ({', '.join(TINTED_SHADED_ATTRIBUTES)}); "
                         f"got shape {targets.shape}.")
    if not np.isin(targets, (0.0, 1.0)).all():
        raise ValueError(f"targets must be 0/1; got {np.setdiff1d(targets, (0.0, 1.0))[:5].tolist()} among them.")
    label_groups_lib.check_unified_labels(targets, TINTED_SHADED_GROUPS)
    group = targets[:, label_groups_lib.logit_size(TINTED_SHADED_GROUPS):].argmax(-1)
    perfect = np.empty((len(gray), *gray.shape[1:3], 3), np.uint8)
    renderers = (render_attributes, render_brightness)  # In the order of TINTED_SHADED_GROUPS.
    for index, (start, stop) in enumerate(label_groups_lib.group_bounds(TINTED_SHADED_GROUPS)):
        rows = group == index
        perfect[rows] = renderers[index](gray[rows], targets[rows, start:stop])
    return perfect


def _gray_sources(name, split, rows, data_dir, manual_dir) -> np.ndarray:
    """The gray uint8 ``[N, 28, 28, 1]`` images a (tinted or two-dataset) demo's ``split`` is rendered from, row for row.

    Raises ValueError unless ``rows`` (the caller's target rows) is N.
    """
    tinted = TINTED_SHADED_SOURCES.get(name, name)  # A two-dataset demo renders its tinted demo's images.
    gray, _ = sources.fashion_mnist_arrays(split, TINTED_SOURCES[tinted], data_dir, manual_dir)
    if rows != len(gray):
        raise ValueError(f"{name} {split} has {len(gray)} images; got {rows} target rows.")
    return gray


def tinted_shaded_arrays(name: str = "tinted_shaded_fashion_mnist", split: str = "train", data_dir=None, manual_dir=None):
    """A two-dataset demo as arrays, the tinted half first, then the shaded half.

    Returns:
      ``(images uint8 [N, 28, 28, 3], labels float32 [N, 9], classes int [N],
      groups int [N])``: unified labels (`TINTED_SHADED_GROUPS`), the garment
      class and which group (0 tint, 1 brightness) each image belongs to.
      Rows ``[:N // 2]`` are `tinted_arrays`' first half; rows
      ``[N // 2:]`` the other images of the split in gray, at levels drawn
      from a fixed seed. Deterministic.
    """
    if name not in TINTED_SHADED_SOURCES:
        raise ValueError(f"Unknown two-dataset demo {name!r}; choose one of {', '.join(TINTED_SHADED_SOURCES)}.")
    tinted = TINTED_SHADED_SOURCES[name]
    images, attributes, classes = tinted_arrays(tinted, split, data_dir, manual_dir)
    gray, _ = sources.fashion_mnist_arrays(split, TINTED_SOURCES[tinted], data_dir, manual_dir)
    half = len(images) // 2
    levels = random_brightness_levels(len(images) - half, _ATTRIBUTE_SEED[split] + 1)
    labels = np.concatenate([label_groups_lib.unify_labels(attributes[:half], 0, TINTED_SHADED_GROUPS),
                             label_groups_lib.unify_labels(levels, 1, TINTED_SHADED_GROUPS)])
    images = np.concatenate([images[:half], render_brightness(gray[half:], levels)])
    groups = np.repeat(np.arange(2, dtype=np.int64), [half, len(levels)])
    return images, labels, classes, groups


def attribute_dataset(images, attributes, batch_size: int, *, shuffle=True, repeat=False, seed=None) -> tf.data.Dataset:
    """``(images, attributes)`` arrays -> batches; uint8 images are scaled to [-1, 1].

    Args:
      images: ``[N, H, W, C]`` uint8 in [0, 255] or float in [-1, 1].
      attributes: 0/1 ``[N, K]``.
      batch_size: examples per batch (every batch is full).
    """
    images = np.asarray(images)
    attributes = np.asarray(attributes, np.float32)
    if len(images) != len(attributes):
        raise ValueError(f"{len(images)} images but {len(attributes)} attribute rows.")
    if len(images) < batch_size:
        raise ValueError(f"{len(images)} examples make no batch of {batch_size}.")
    ds = tf.data.Dataset.from_tensor_slices((images, attributes))
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    scale = to_model_range if images.dtype == np.uint8 else (lambda x: tf.cast(x, tf.float32))
    ds = ds.batch(batch_size, drop_remainder=True).map(lambda x, a: (scale(x), a), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def combine_attribute_sources(sources, label_groups, batch_size: int, *, repeat: bool = False) -> tf.data.Dataset:
    """Batches of unified labels drawn from several attribute datasets with different label sets.

    StarGAN's mask vector (Choi et al. 2018, sec. 3.2): dataset i's labels
    ``c_i`` go into group i of ``c~ = [c_1, ..., c_n, m]`` (`kgan.label_groups`),
    the other groups zeros, the mask one-hot on i. The paper alternates the
    datasets step by step; here the examples alternate (round robin), so
    every batch -- and each of a step's n_critic minibatches, when its size
    is a multiple of n -- holds the datasets in equal shares. That keeps the
    paper's equal weighting of datasets of different sizes, trains D's heads
    of every group in every update, and lets the permuted targets cross
    datasets within a minibatch.

    Args:
      sources: one `tf.data.Dataset` per group of ``(image, labels)``
        *examples* (unbatched, each shuffled as wanted): images uint8
        ``[H, W, C]`` in [0, 255] or float in [-1, 1], the same shape in
        every source; labels 0/1 ``[size]`` of that group.
      label_groups: ``((size, kind), ...)``, one per source, in order.
      batch_size: examples per batch (every batch is full).
      repeat: repeat every source for ever (else stop when the first runs out).

    Returns:
      A dataset of ``(float32 [B, H, W, C] in [-1, 1], float32 0/1 [B, sum(size) + n])``.
    """
    groups = label_groups_lib.normalize_label_groups(label_groups)
    if len(sources) != len(groups):
        raise ValueError(f"{len(sources)} sources for {len(groups)} label groups; give one source per group.")
    shapes = {tuple(source.element_spec[0].shape) for source in sources}
    if len(shapes) != 1:
        raise ValueError(f"The sources' images differ in shape ({', '.join(map(str, sorted(shapes)))}); resize them alike.")
    logits, bounds = label_groups_lib.logit_size(groups), label_groups_lib.group_bounds(groups)

    def unified(index):
        start, stop = bounds[index]
        mask = tf.one_hot(index, len(groups))

        def to_unified(image, labels):
            labels = tf.ensure_shape(tf.cast(labels, tf.float32), [stop - start])
            scaled = to_model_range(image) if image.dtype == tf.uint8 else tf.cast(image, tf.float32)
            return scaled, tf.concat([tf.pad(labels, [[start, logits - stop]]), mask], 0)

        return to_unified

    streams = [source.map(unified(i), num_parallel_calls=tf.data.AUTOTUNE) for i, source in enumerate(sources)]
    if repeat:
        streams = [stream.repeat() for stream in streams]
    mixed = tf.data.Dataset.choose_from_datasets(streams, tf.data.Dataset.range(len(streams)).repeat())
    return mixed.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def _tinted_shaded(name, split, batch_size, data_dir, manual_dir, limit, shuffle, repeat, seed) -> tf.data.Dataset:
    """A two-dataset demo's batches: its tinted and shaded halves through `combine_attribute_sources`."""
    images, labels, _, groups = tinted_shaded_arrays(name, split, data_dir, manual_dir)
    halves = []
    for group, (start, stop) in enumerate(label_groups_lib.group_bounds(TINTED_SHADED_GROUPS)):
        rows = np.flatnonzero(groups == group)[:None if limit is None else -(-limit // 2)]  # Each half gives limit / 2.
        source = tf.data.Dataset.from_tensor_slices((images[rows], labels[rows, start:stop]))
        halves.append(source.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True) if shuffle else source)
    return combine_attribute_sources(halves, TINTED_SHADED_GROUPS, batch_size, repeat=repeat)


def celeb_a_attribute_names(data_dir=None) -> tuple:
    """The 40 attribute names of TFDS ``celeb_a``."""
    import tensorflow_datasets as tfds

    builder = tfds.builder("celeb_a", data_dir=os.fspath(data_dir) if data_dir is not None else None)
    return tuple(sorted(builder.info.features["attributes"].keys()))


def _celeb_a(split, attributes, image_size, data_dir, manual_dir, shuffle, seed):
    import tensorflow_datasets as tfds

    known = celeb_a_attribute_names(data_dir)
    unknown = [a for a in attributes if a not in known]
    if unknown:
        raise ValueError(f"Unknown CelebA attributes {unknown}; choose from: {', '.join(known)}.")
    builder = sources.prepared_builder(dataset_info("celeb_a"), data_dir=data_dir, manual_dir=manual_dir)
    ds = builder.as_dataset(split=split, shuffle_files=shuffle, read_config=tfds.ReadConfig(shuffle_seed=seed))

    def convert(example):
        image = resize_uint8(center_crop(example["image"], 178), (image_size, image_size))
        values = tf.stack([tf.cast(example["attributes"][a], tf.float32) for a in attributes])
        return image, values

    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)


def _batched(ds, batch_size: int, *, shuffle_buffer: int = 0, repeat: bool = False, seed=None) -> tf.data.Dataset:
    """uint8 ``(image, attributes)`` examples -> full batches, images float32 in [-1, 1]."""
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=True).map(lambda x, a: (to_model_range(x), a), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def load_attribute_images(
    name: str,
    split: str = "train",
    batch_size: int = 16,
    *,
    attributes=None,
    image_size: int | None = None,
    data_dir=None,
    manual_dir=None,
    limit: int | None = None,
    shuffle: bool = True,
    repeat: bool = False,
    seed: int | None = None,
    **folder_options,
) -> tf.data.Dataset:
    """``(images, attributes)`` batches for `kgan.StarGAN`.

    Args:
      name: ``"tinted_fashion_mnist"``, ``"tinted_fashion_mnist_full"``,
        ``"tinted_shaded_fashion_mnist"`` (unified labels of two datasets),
        ``"tinted_shaded_fashion_mnist_full"``, ``"celeb_a"`` or ``"folder:PATH"``.
      split: ``"train"``/``"test"`` (CelebA also ``"validation"``; folders:
        their split folders, or ``"train"`` only).
      batch_size: examples per batch (every batch is full).
      attributes: CelebA attribute names (default `CELEB_A_DEFAULT_ATTRIBUTES`)
        or a folder CSV's columns (default every column); the tinted demos
        always have `TINT_ATTRIBUTES`, the two-dataset demos
        `TINTED_SHADED_ATTRIBUTES`.
      image_size: CelebA output side (default 128); the demos are 28x28;
        folders: as `kgan.data.load_images` (unset: as stored).
      data_dir, manual_dir: TFDS arguments.
      limit: use only the first ``limit`` examples.
      shuffle, repeat, seed: as in `kgan.data.load_images`.
      **folder_options: ``attributes_file``, ``channels``, ``crop``,
        ``on_bad_image`` of a ``folder:`` source (`kgan.data.attribute_folder`).

    Returns:
      A dataset of ``(float32 [B, H, W, C] in [-1, 1], float32 0/1 [B, K])``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}.")
    if is_attribute_folder(name):
        folder = read_folder(name, attributes, image_size=image_size, **folder_options)
        # The whole file list is reshuffled every pass: no shuffle buffer needed.
        indices = None if limit is None else range(min(limit, folder.info.splits.get(split, 0)))
        ds = attribute_folder.attribute_examples(folder, split, indices=indices, shuffle=shuffle, seed=seed)
        return _batched(ds, batch_size, repeat=repeat)
    _refuse_folder_options(name, folder_options)
    if name in FIXED_ATTRIBUTES:
        if attributes is not None and tuple(attributes) != FIXED_ATTRIBUTES[name]:
            raise ValueError(f"{name} has the attributes {FIXED_ATTRIBUTES[name]}; got {attributes}.")
        if image_size not in (None, 28):
            raise ValueError(f"{name} is 28x28; unset image_size.")
    if name in TINTED_SHADED_SOURCES:
        return _tinted_shaded(name, split, batch_size, data_dir, manual_dir, limit, shuffle, repeat, seed)
    if name in TINTED_SOURCES:
        images, values, _ = tinted_arrays(name, split, data_dir, manual_dir)
        if limit is not None:
            images, values = images[:limit], values[:limit]
        return attribute_dataset(images, values, batch_size, shuffle=shuffle, repeat=repeat, seed=seed)
    if name != "celeb_a":
        raise ValueError(f"Unknown attribute dataset {name!r}; choose one of {', '.join(ATTRIBUTE_DATASETS)}.")
    names = tuple(attributes or CELEB_A_DEFAULT_ATTRIBUTES)
    ds = _celeb_a(split, names, image_size or 128, data_dir, manual_dir, shuffle, seed)
    if limit is not None:
        ds = ds.take(limit)
    return _batched(ds, batch_size, shuffle_buffer=10_000 if shuffle else 0, repeat=repeat, seed=seed)


def folder_arrays(name: str, split: str, count: int, *, offset: int = 0, seed: int = 0, attributes=None,
                  image_size=None, **folder_options):
    """``count`` images of a ``folder:`` split as arrays, drawn in a seeded random order (for evaluation).

    Args:
      name: ``folder:PATH``.
      split: one of its splits.
      count: how many (fewer if the split has fewer after ``offset``).
      offset: skip the first ``offset`` of the order, so two calls with the
        same seed give disjoint images.
      seed: the order's seed (NumPy's, so it is the same in every process).
      attributes, image_size, **folder_options: as `load_attribute_images`.

    Returns:
      ``(images uint8 [N, H, W, C], attributes float32 [N, K])``; N may be 0.
    """
    folder = read_folder(name, attributes, image_size=image_size, **folder_options)
    if split not in folder.files:
        raise ValueError(f"{name} has no split {split!r} with attributes; its splits: {', '.join(folder.files)}.")
    order = np.random.default_rng(seed).permutation(len(folder.files[split]))[offset:offset + count]
    pairs = list(attribute_folder.attribute_examples(folder, split, indices=order).as_numpy_iterator()) if len(order) else []
    images = np.zeros((0, *folder.info.image_shape), np.uint8)
    values = np.zeros((0, len(folder.attribute_names)), np.float32)
    if pairs:
        images, values = np.stack([image for image, _ in pairs]), np.stack([v for _, v in pairs])
    return images, values


def attribute_names(name: str, attributes=None, **folder_options) -> tuple:
    """The attribute names (label vector order) of ``name`` (folders: the chosen CSV columns)."""
    if name in FIXED_ATTRIBUTES:
        return FIXED_ATTRIBUTES[name]
    if is_attribute_folder(name):
        return describe_attribute_data(name, attributes=attributes, **folder_options).attribute_names
    return tuple(attributes or CELEB_A_DEFAULT_ATTRIBUTES)
