"""A TFDS builder, ``pix2pix``, for the pix2pix authors' paired datasets (Isola et al. 2017).

TFDS has no builder for them. ``pix2pix/facades``, ``pix2pix/edges2shoes`` and
``pix2pix/maps`` read the authors' archives (``facades.tar.gz``,
``edges2shoes.tar.gz``, ``maps.tar.gz``, as published with the pix2pix
code) from TFDS's ``manual_dir`` -- no download: put the archive there and
pass ``manual_dir`` (``--manual_dir``). Each archive holds
``<config>/<split>/*.jpg``, every file one pair side by side: the A image on
the left half, the B image on the right (facades: A = label map, B = photo;
edges2shoes: A = edges, B = shoe; maps: A = aerial photo, B = map).

Each example stores the original JPEG bytes unchanged (``image``, W = 2 H for
the authors' 512x256 files) and its path in the archive (``file_name``);
`kgan.data.paired` cuts the halves when reading. The splits are the archive's
folders: facades train/val/test (400/100/106), edges2shoes and maps
train/val.
"""

from __future__ import annotations

import io
import os

import tensorflow_datasets as tfds

CONFIGS = {
    "facades": "Building facades: A = architectural label map, B = photo (CMP Facades; 400 train, 100 val, 106 test).",
    "edges2shoes": "Shoes: A = HED edge map, B = photo (UT Zappos50K; 49,825 train, 200 val).",
    "maps": "Google Maps: A = aerial photo, B = map (1,096 train, 1,098 val).",
}
SPLIT_FOLDERS = ("train", "val", "test")


def archive_name(config: str) -> str:
    """The authors' archive for ``config``: ``<config>.tar.gz``."""
    return f"{config}.tar.gz"


class Pix2pix(tfds.core.GeneratorBasedBuilder):
    """The pix2pix paired datasets, side-by-side A|B JPEGs, from the authors' archives in ``manual_dir``."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "kgan's builder: the original side-by-side JPEG bytes."}
    BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=name, description=text) for name, text in CONFIGS.items()]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Put the pix2pix authors' archive of the config (facades.tar.gz, edges2shoes.tar.gz or maps.tar.gz, from "
        "the pix2pix repository's datasets) in manual_dir; kgan never downloads it."
    )

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description="pix2pix paired images (Isola et al. 2017): A on the left half, B on the right.",
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 3), encoding_format="jpeg"),
                "file_name": tfds.features.Text(),
            }),
            homepage="https://phillipi.github.io/pix2pix/",
        )

    def _archive(self, dl_manager) -> str:
        path = os.path.join(os.fspath(dl_manager.manual_dir), archive_name(self.builder_config.name))
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path} is missing. {self.MANUAL_DOWNLOAD_INSTRUCTIONS}")
        return path

    def _split_generators(self, dl_manager):
        archive = self._archive(dl_manager)
        folders = set()
        for member, _ in dl_manager.iter_archive(archive):
            parts = member.replace("\\", "/").split("/")
            if len(parts) >= 3 and parts[-2] in SPLIT_FOLDERS:
                folders.add(parts[-2])
        if "train" not in folders:
            raise ValueError(f"{archive} has no <config>/train/ folder of images: is it a pix2pix archive?")
        return {split: self._generate_examples(dl_manager, archive, split) for split in sorted(folders)}

    def _generate_examples(self, dl_manager, archive, split):
        from PIL import Image

        for member, fobj in dl_manager.iter_archive(archive):
            parts = member.replace("\\", "/").split("/")
            if len(parts) < 3 or parts[-2] != split or not parts[-1].lower().endswith((".jpg", ".jpeg")):
                continue
            data = fobj.read()
            with Image.open(io.BytesIO(data)) as image:
                width = image.width
            if width % 2:
                # A|B side by side has an even width; an odd one is no pair of equal halves.
                raise ValueError(f"{archive}: {member} is {width} pixels wide, not two halves A|B of equal width.")
            yield member, {"image": io.BytesIO(data), "file_name": member}
