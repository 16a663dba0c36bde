"""The user's own images (``folder:``, ``npz:``, ``npy:``, ``tfds:``) behind `load_images` and `dataset_info`.

`describe` answers what `kgan.data.dataset_info` answers for the catalogue
-- image shape, classes, split sizes -- after checking the data (for folders:
every file's header, no pixels); `examples` yields a split as uint8
``(image, label)`` pairs already converted to the described shape:

    decode -> channels (--channels: 1 or 3) -> centre square crop (--crop=center)
    -> resize (--image_size, bilinear, antialiased)

Without ``image_size`` every image must have the same size (a folder of mixed
sizes is refused with the sizes found); with ``crop="center"`` non-square
images keep their central square, with ``"none"`` they are squeezed.
Without ``channels`` a source whose images are all gray gives 1 channel, all
colour 3; a folder mixing both is refused with the counts (pass
``channels``).

`fingerprint` hashes a split's content (file bytes, labels and the options
above), so cached statistics of a folder that was edited -- or of another
folder under the same name -- are never reused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

import numpy as np
import tensorflow as tf

from kgan.data import arrays, image_folder, specs, tfds_images
from kgan.data.catalog import ImageDatasetInfo, normalize_image_size
from kgan.data.preprocessing import central_square, resize_uint8
from kgan.data.specs import BAD_IMAGE_POLICIES, CROP_CHOICES

_HASH_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class DataOptions:
    """How a source's images are turned into training images (see the module docstring)."""

    image_size: tuple | None = None
    channels: int | None = None
    crop: str = "center"
    on_bad_image: str = "skip"

    def __post_init__(self):
        object.__setattr__(self, "image_size", normalize_image_size(self.image_size))
        if self.channels not in (None, 1, 3):
            raise ValueError(f"channels must be 1, 3 or None (as the data is); got {self.channels!r}.")
        if self.crop not in CROP_CHOICES:
            raise ValueError(f"crop must be one of {', '.join(CROP_CHOICES)}; got {self.crop!r}.")
        if self.on_bad_image not in BAD_IMAGE_POLICIES:
            raise ValueError(f"on_bad_image must be one of {', '.join(BAD_IMAGE_POLICIES)}; got {self.on_bad_image!r}.")


# ---------------------------------------------------------------------- reading each kind


def _read(spec: specs.SourceSpec, options: DataOptions, data_dir):
    """The kind's own description: a FolderScan, ArraySplits or TfdsImageFeatures."""
    if spec.kind == "folder":
        return image_folder.scan_folder(spec.location, options.on_bad_image)
    if spec.kind in ("npz", "npy"):
        return _arrays(spec)
    return tfds_images.image_features(spec.location, data_dir)


# (kind, path, key) -> ((size, mtime_ns), ArraySplits): a run describes its data several times (the
# config's classes, data.json, the epoch length, the stream, the evaluation); the arrays load once.
_ARRAYS: dict = {}


def _arrays(spec: specs.SourceSpec):
    stat = os.stat(spec.location) if os.path.isfile(spec.location) else None
    stamp = (stat.st_size, stat.st_mtime_ns) if stat else None
    key = (spec.kind, spec.location, spec.key)
    hit = _ARRAYS.get(key)
    if hit is not None and stamp is not None and hit[0] == stamp:
        return hit[1]
    source = arrays.load_npz(spec.location, spec.key) if spec.kind == "npz" else arrays.load_npy(spec.location)
    _ARRAYS.clear()  # Hold one source's arrays at most.
    _ARRAYS[key] = (stamp, source)
    return source


def _stored_shape(spec, source, options):
    """``(height, width, channels)`` as stored (None where they vary), after the channel choice.

    Raises:
      BadImageData: mixed sizes without ``image_size``, or mixed gray/colour without ``channels``.
    """
    name = str(spec)
    if spec.kind == "folder":
        sizes = source.sizes()
        gray, colour = source.gray_counts()
        if options.channels is None and gray and colour:
            raise image_folder.BadImageData(
                f"{name} mixes {gray} gray and {colour} colour images: pass --channels=3 (gray repeated to RGB) "
                "or --channels=1 (colour to gray)."
            )
        channels = options.channels or (1 if not colour else 3)
        if len(sizes) > 1:
            if options.image_size is None:
                common = ", ".join(f"{w}x{h} ({n})" for (h, w), n in sizes.most_common(image_folder.SHOWN_FILES))
                raise image_folder.BadImageData(
                    f"{name} holds images of {len(sizes)} sizes (width x height: {common}"
                    f"{', ...' if len(sizes) > image_folder.SHOWN_FILES else ''}): pass --image_size=S to resize "
                    "them all to S x S (with --crop=center, the default, each keeps its central square first)."
                )
            return None, None, channels
        (height, width), = sizes
        return height, width, channels
    if spec.kind in ("npz", "npy"):
        shapes = {images.shape[1:] for images, _ in source.splits.values()}
        if len(shapes) > 1 and options.image_size is None:
            raise image_folder.BadImageData(f"{name}: the splits' images differ in shape ({sorted(shapes)}): pass --image_size.")
        height, width, depth = next(iter(shapes))
        return height, width, options.channels or depth
    height, width, depth = source.shape
    if (height is None or width is None) and options.image_size is None:
        raise image_folder.BadImageData(f"{name}'s images vary in size: pass --image_size=S to resize them to S x S.")
    return height, width, options.channels or depth or 3


def _output_size(stored, options):
    """``(height, width)`` of the training images: ``image_size``, or the stored size after the crop."""
    if options.image_size is not None:
        return options.image_size
    height, width = stored[:2]
    if options.crop == "center":
        side = min(height, width)
        return side, side
    return height, width


def _split_sizes(spec, source) -> dict:
    if spec.kind == "folder":
        return {split: len(files) for split, files in source.splits.items()}
    if spec.kind in ("npz", "npy"):
        return {split: len(images) for split, (images, _) in source.splits.items()}
    return dict(source.splits)


def describe(name: str, image_size=None, *, channels=None, crop="center", on_bad_image="skip",
             data_dir=None, manual_dir=None) -> ImageDatasetInfo:
    """Checks a user source and says what `load_images` will yield from it.

    Args:
      name: ``folder:PATH``, ``npz:PATH[:KEY]``, ``npy:PATH`` or ``tfds:NAME[/CONFIG]``.
      image_size, channels, crop, on_bad_image: see the module docstring.
      data_dir: the TFDS data dir, for ``tfds:``.
      manual_dir: accepted for symmetry with `load_images`; describing needs no preparation.

    Returns:
      An `ImageDatasetInfo`: ``image_shape`` is the training images'
      ``(H, W, C)``; ``class_names`` the labels' names (class folders,
      ``class_names`` arrays, ClassLabel names); ``skipped`` the bad files
      left out.

    Raises:
      ValueError (`kgan.data.image_folder.BadImageData` among them): the data
        cannot be used as it is; FileNotFoundError: no such path.
    """
    del manual_dir
    spec = specs.parse_source(name)
    options = DataOptions(image_size, channels, crop, on_bad_image)
    return _describe(spec, options, _read(spec, options, data_dir))


def _describe(spec, options, source) -> ImageDatasetInfo:
    stored = _stored_shape(spec, source, options)
    class_names = source.class_names  # Class folders, a class_names array or ClassLabel names.
    return ImageDatasetInfo(
        name=str(spec),
        image_shape=(*_output_size(stored, options), stored[2]),
        num_classes=len(class_names) or None,
        class_names=tuple(class_names),
        splits=_split_sizes(spec, source),
        tfds_name=spec.location if spec.kind == "tfds" else None,
        source_shape=stored,
        skipped=tuple(source.skipped) if spec.kind == "folder" else (),
    )


# ---------------------------------------------------------------------- examples


def _transform(options: DataOptions, image_shape):
    channels = image_shape[-1]
    size = options.image_size

    def transform(image, label):
        image = image_folder.to_channels(image, channels)
        if options.crop == "center":
            image = central_square(image)
        if size is not None:
            image = resize_uint8(image, size)
        return tf.ensure_shape(image, image_shape), label

    return transform


def transform(image_shape, *, image_size=None, crop="center"):
    """The conversion `examples` applies to each decoded example, for pipelines that pick their own files.

    ``(image uint8 [h, w, c], label) -> (image uint8 image_shape, label)``:
    channels (``image_shape[-1]``, `kgan.data.image_folder.to_channels`),
    centre square crop (``crop="center"``), resize to ``image_size``
    (bilinear, antialiased). ``image_shape`` is what `describe` answered for
    the same ``image_size``, ``channels`` and ``crop`` (e.g. StarGAN's
    folder images that have a row of attributes, `kgan.data.attribute_folder`).
    """
    return _transform(DataOptions(image_size, image_shape[-1], crop), tuple(image_shape))


def _split_of(name, sizes: dict, split: str) -> None:
    if split not in sizes:
        where = {"train": "train/", "test": "test/ (next to train/)", "validation": "validation/ (next to train/)"}
        hint = f": add a {where[split]} folder" if name.startswith("folder:") and split in where else ""
        raise ValueError(f"{name} has no split {split!r}{hint}; its splits: {', '.join(sizes)}.")


def examples(name: str, split: str = "train", *, image_size=None, channels=None, crop="center", on_bad_image="skip",
             data_dir=None, manual_dir=None, shuffle_files=False, seed=None, download=True, with_labels=False):
    """A split of a user source as ``(dataset, info)``.

    The dataset yields ``(image uint8 [H, W, C], label int64)``, the images
    already in ``info.image_shape``; the label is -1 for folder images outside
    every class folder and 0 for sources without labels.

    Raises:
      ValueError: as `describe`; a split the source lacks; ``with_labels`` for
        a source without labels (or a folder whose classes cannot be learnt).
    """
    spec = specs.parse_source(name)
    options = DataOptions(image_size, channels, crop, on_bad_image)
    source = _read(spec, options, data_dir)  # Read once: the description and the examples come from it.
    info = _describe(spec, options, source)
    if spec.kind != "tfds":
        _split_of(info.name, info.splits, split)
    if with_labels and not info.has_labels:
        raise ValueError(f"{info.name} has no class labels, which this model needs"
                         + (": put each class's images in a subfolder of its own." if spec.kind == "folder" else "."))
    if spec.kind == "folder":
        if with_labels:
            image_folder.check_labels(source)
        ds = image_folder.folder_examples(source.splits[split], info.image_shape[-1],
                                          on_bad_image, shuffle_files=shuffle_files, seed=seed)
    elif spec.kind in ("npz", "npy"):
        images, labels = source.splits[split]
        labels = np.zeros(len(images), np.int64) if labels is None else labels
        ds = tf.data.Dataset.from_tensor_slices((images, labels))
    else:
        ds = tfds_images.tfds_examples(spec.location, source, split, data_dir=data_dir, manual_dir=manual_dir,
                                       shuffle_files=shuffle_files, seed=seed, download=download)
    return ds.map(_transform(options, info.image_shape), num_parallel_calls=tf.data.AUTOTUNE), info


# ---------------------------------------------------------------------- fingerprints


# path -> ((size, mtime_ns), digest of the bytes): QualityEvaluation asks for the reference's
# fingerprint every few epochs; an unchanged file is hashed once per process.
_FILE_DIGESTS: dict = {}


def _hash_file(digest, path: str) -> None:
    """Adds the digest of ``path``'s bytes (read again only when its size or modification time changed)."""
    stat = os.stat(path)
    stamp = (stat.st_size, stat.st_mtime_ns)
    hit = _FILE_DIGESTS.get(path)
    if hit is None or hit[0] != stamp:
        own = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as f:
            while chunk := f.read(_HASH_CHUNK):
                own.update(chunk)
        hit = _FILE_DIGESTS[path] = (stamp, own.digest())
    digest.update(hit[1])


def _tfds_files(name: str, split: str, data_dir) -> list:
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=os.fspath(data_dir) if data_dir is not None else None)
    base = split.split("[", 1)[0]
    directory = os.fspath(builder.data_dir)
    if not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f"-{base}." in f and ".tfrecord" in f)


def fingerprint(name: str, split: str = "train", *, image_size=None, channels=None, crop="center", limit=None,
                data_dir=None) -> str:
    """A hex digest of what a split yields: its files' bytes, labels and the conversion options.

    Works for the catalogue too (the embedded subset's archive; a TFDS
    split's record files). Two sources with the same bytes share a
    fingerprint whatever their names; editing, adding or removing one image
    changes it. Within a process a file whose size and modification time
    are unchanged is not read again (an edit that keeps both is not seen).
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((split, normalize_image_size(image_size), channels, crop, limit)).encode())
    if not specs.is_user_source(name):
        from kgan.data import embedded
        from kgan.data.catalog import dataset_info

        info = dataset_info(name)
        digest.update(info.name.encode())
        if info.tfds_name is None:
            with embedded.embedded_subset_path().open("rb") as f:
                digest.update(f.read())
            return digest.hexdigest()
        for path in _tfds_files(info.tfds_name, split, data_dir):
            digest.update(os.path.basename(path).encode())
            _hash_file(digest, path)
        return digest.hexdigest()
    spec = specs.parse_source(name)
    digest.update(spec.kind.encode())
    if spec.kind == "folder":
        scan = image_folder.scan_folder(spec.location, "skip")
        _split_of(str(spec), {s: len(f) for s, f in scan.splits.items()}, split)
        files = scan.splits[split]
        for path, label in zip(files.paths, files.labels):
            digest.update(f"{os.path.relpath(path, spec.location)}\0{label}\0".encode())
            _hash_file(digest, path)
    elif spec.kind in ("npz", "npy"):
        digest.update(repr(spec.key).encode())
        _hash_file(digest, spec.location)
    else:
        digest.update(spec.location.encode())
        for path in _tfds_files(spec.location, split, data_dir):
            digest.update(os.path.basename(path).encode())
            _hash_file(digest, path)
    return digest.hexdigest()
