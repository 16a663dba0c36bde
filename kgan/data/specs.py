"""Names of the user's own data: ``folder:PATH``, ``npz:PATH[:KEY]``, ``npy:PATH``, ``tfds:NAME[/CONFIG]``.

Every binary's ``--dataset`` and every `kgan.data.load_images` call take
either a catalogue name (`kgan.data.KNOWN_DATASETS`) or one of these:

* ``folder:PATH`` -- a directory of PNG/JPEG/BMP/GIF files, searched
  recursively (`kgan.data.image_folder`).
* ``npz:PATH`` / ``npz:PATH:KEY`` -- a NumPy ``.npz`` archive; ``KEY`` names
  the images array when the archive holds several (`kgan.data.arrays`).
* ``npy:PATH`` -- a single ``.npy`` array of images.
* ``tfds:NAME`` / ``tfds:NAME/CONFIG`` -- any TFDS image dataset
  (`kgan.data.tfds_images`).
"""

from __future__ import annotations

import dataclasses

SOURCE_KINDS = ("folder", "npz", "npy", "tfds")
SOURCE_FORMS = "folder:PATH, npz:PATH[:KEY], npy:PATH or tfds:NAME[/CONFIG]"
# How a non-square image becomes square: its central square, or squeezed whole.
CROP_CHOICES = ("center", "none")
# What a folder's unusable files do: get skipped (and reported), or stop the run before it starts.
BAD_IMAGE_POLICIES = ("skip", "stop")
# Kinds whose reader shuffles its own order every pass when asked to (a folder shuffles its file
# list), so a first epoch needs no shuffle buffer in front of it.
SELF_SHUFFLING_KINDS = ("folder",)


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """A parsed user source.

    Attributes:
      kind: one of `SOURCE_KINDS`.
      location: the path (folder, npz, npy) or the TFDS name with its config.
      key: the images key inside an ``.npz`` archive, or None (found automatically).
    """

    kind: str
    location: str
    key: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.location}" + (f":{self.key}" if self.key else "")

    @property
    def shuffles_on_read(self) -> bool:
        """Whether the reader yields a fresh random order each pass when asked to shuffle (`SELF_SHUFFLING_KINDS`)."""
        return self.kind in SELF_SHUFFLING_KINDS


def is_user_source(name) -> bool:
    """Whether ``name`` names a user source (``kind:...``) rather than a catalogue dataset."""
    return isinstance(name, str) and name.split(":", 1)[0] in SOURCE_KINDS and ":" in name


def shuffles_on_read(name) -> bool:
    """Whether ``name`` is a user source whose reader shuffles itself (`SourceSpec.shuffles_on_read`)."""
    return is_user_source(name) and parse_source(name).shuffles_on_read


def parse_source(name: str) -> SourceSpec:
    """Parses ``kind:location[:key]``.

    ``npz:`` paths may themselves hold colons: the key is split off only when
    what follows the last colon is not part of a path ending in ``.npz``.

    Raises:
      ValueError: an unknown kind or an empty location.
    """
    if not is_user_source(name):
        raise ValueError(f"{name!r} is not a data source of the form {SOURCE_FORMS}.")
    kind, location = name.split(":", 1)
    key = None
    if kind == "npz" and not location.endswith(".npz") and ":" in location:
        location, key = location.rsplit(":", 1)
        if not key:
            raise ValueError(f"{name!r}: the key after the last ':' is empty; use npz:PATH or npz:PATH:KEY.")
    if not location:
        raise ValueError(f"{name!r} names no {'dataset' if kind == 'tfds' else 'path'}; use {SOURCE_FORMS}.")
    return SourceSpec(kind, location, key)
