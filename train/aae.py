r"""Trains `kgan.AdversarialAutoencoder` (Makhzani et al. 2016): an autoencoder whose codes a discriminator pushes to a prior.

    python train/aae.py --preset=demo                        # embedded Fashion-MNIST, a few minutes, no network
    python train/aae.py --preset=fashion_mnist               # the full set, a Gaussian prior on an 8-d code
    python train/aae.py --preset=clustering_fashion_mnist    # Sec. 6: 16 clusters beside the style code
    python train/aae.py --preset=supervised_demo             # Sec. 5: the label given to the decoder, z the style
    python train/aae.py --preset=supervised_demo --prior=mixture   # Sec. 4: each class's codes pushed to its own component
    python train/aae.py --prior=mixture --latent_dim=2 ...   # the paper's mixture of 10 2-D Gaussians
    python train/aae.py --help                               # every flag (one per AdversarialAutoencoderConfig field)

Batches are the images alone (``--supervised``: ``(images, labels)``). The run ends with FID/KID of decoded prior
samples and what the encoder learned (``train/encoder_evaluation.py``):
linear-probe and 1-NN accuracy of E(x) beside raw pixels and an untrained
encoder, the reconstructions' errors and class kept, E(x) against the prior
and, with ``--num_clusters``, the clusters against the classes; all in
``summary.json`` under ``"evaluation"``, and ``samples/reconstructions.png``
(test images beside their reconstructions); ``--supervised`` adds how often
each test image's z decoded with every class is classified as that class
(``style``), intra-class FID and ``samples/styles.png``. The SavedModel serves
``decode(codes)`` (= ``serving_default``), ``sample(num_images, seed)``,
``encode(images)`` and ``reconstruct(images)`` (supervised: ``reconstruct(images,
classes)``; and their ``_uint8`` forms).
Resuming, outputs and export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from train import encoder_evaluation  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

SPEC = kgan.registry.get("aae")
config_flags.define_config_flags(SPEC.config_class, SPEC.presets)
flags.adopt_module_key_flags(config_flags)

RECIPE = train_lib.Recipe(SPEC, evaluate=encoder_evaluation.evaluate)

if __name__ == "__main__":
    app.run(train_lib.main_for(SPEC.config_class, SPEC.presets, RECIPE))
