"""Image data for kgan: model-ready datasets, offline sources, the [-1, 1] contract.

Quick start::

    from kgan import data
    ds = data.load_images("embedded_fashion_mnist", batch_size=64)  # no network
    info = data.dataset_info("cifar10")  # image_shape=(32, 32, 3), num_classes=10

Modules: `pipeline` (load_images), `catalog` (dataset_info), `sources` (TFDS and
embedded readers), `offline` (Fashion-MNIST from the Debian package),
`embedded` (the shipped subset), `validation` / `ranges` (the image contract),
`preprocessing` (crop/resize), `idx` (IDX file reader), `mixtures` (2-D
Gaussian mixtures for learning tests), `unpaired` (two image domains for
CycleGAN: the offline footwear edges <-> images demo, TFDS cycle_gan/*,
trainA/trainB folders), `attributes` (images with domain attributes for
StarGAN: the offline tinted Fashion-MNIST demo, CelebA attributes, several
datasets' label sets combined into unified labels), `stacked` (stacked
Fashion-MNIST: three images as channels, 1,000 modes, for mode counting).
"""

from kgan.data.attributes import attribute_dataset, combine_attribute_sources, load_attribute_images, tinted_arrays
from kgan.data.catalog import KNOWN_DATASETS, ImageDatasetInfo, dataset_info
from kgan.data.embedded import load_embedded_fashion_mnist
from kgan.data.mixtures import GaussianMixture, gaussian_mixture, grid_of_gaussians, ring_of_gaussians
from kgan.data.offline import DEBIAN_FASHION_MNIST_DIR, prepare_offline_fashion_mnist
from kgan.data.pipeline import load_images, load_labelled_arrays
from kgan.data.ranges import to_model_range, to_uint8
from kgan.data.sources import DatasetNotPreparedError
from kgan.data.stacked import stacked_dataset, stacked_fashion_mnist
from kgan.data.unpaired import UnpairedInfo, load_paired, load_unpaired, paired_arrays, unpaired_info
from kgan.data.validation import check_image_batch

__all__ = [
    "DEBIAN_FASHION_MNIST_DIR",
    "DatasetNotPreparedError",
    "GaussianMixture",
    "ImageDatasetInfo",
    "attribute_dataset",
    "combine_attribute_sources",
    "UnpairedInfo",
    "KNOWN_DATASETS",
    "check_image_batch",
    "dataset_info",
    "gaussian_mixture",
    "grid_of_gaussians",
    "load_embedded_fashion_mnist",
    "load_attribute_images",
    "load_images",
    "load_labelled_arrays",
    "load_paired",
    "load_unpaired",
    "paired_arrays",
    "prepare_offline_fashion_mnist",
    "ring_of_gaussians",
    "stacked_dataset",
    "stacked_fashion_mnist",
    "tinted_arrays",
    "to_model_range",
    "to_uint8",
    "unpaired_info",
]
