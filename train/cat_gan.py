r"""Trains `kgan.CatGAN` (Springenberg 2016): a K-way classifier D against a generator, unsupervised or semi-supervised.

    python train/cat_gan.py --preset=demo                    # embedded Fashion-MNIST, a few minutes, no network
    python train/cat_gan.py --preset=semi_supervised_demo    # the same with 100 labels per class
    python train/cat_gan.py --preset=ring8                   # ring of 8 Gaussians, K = 8
    python train/cat_gan.py --preset=fashion_mnist           # bench/cat_gan.py's settings
    python train/cat_gan.py --help                           # every flag (one per CatGANConfig field)

Batches are the samples alone, or with ``--labels_per_class=N`` ``(images,
labels)`` with -1 for unlabelled examples: the first N training examples of
each class keep their labels and every minibatch holds
``--labelled_batch_size`` of them (``train/semi_supervised.py``). The run ends
with FID/KID of the samples (points: mode coverage, as ``train/gan.py``) and
the clustering scores of D -- accuracy under the best one-to-one cluster ->
class assignment, NMI, ARI (`kgan.metrics.clustering_scores`) -- on the test
split (points: on mixture samples against their mode), plus D's plain test
accuracy in the semi-supervised mode (``train/cat_gan_evaluation.py``); all in ``summary.json`` under
``"evaluation"``. For images, ``samples/test_clusters.png`` shows D's clusters:
one row per cluster (in the order of the classes they are assigned to), its
ten surest test images. The SavedModel serves ``serving_default(z)``,
``sample(num_images, seed)`` and ``classify(images)`` (``classify_uint8``)
-> ``probabilities`` and ``classes``. Resuming, outputs and export work as
in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from kgan.models import cat_gan  # noqa: E402,F401  (registers "cat_gan")
from train import cat_gan_evaluation  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import semi_supervised  # noqa: E402
from train import train_lib  # noqa: E402

SPEC = kgan.registry.get("cat_gan")
config_flags.define_config_flags(SPEC.config_class, SPEC.presets)
flags.adopt_module_key_flags(config_flags)

RECIPE = train_lib.Recipe(
    SPEC, make_dataset=semi_supervised.make_dataset, evaluate=cat_gan_evaluation.evaluate, describe_data=semi_supervised.describe_data,
)

if __name__ == "__main__":
    app.run(train_lib.main_for(SPEC.config_class, SPEC.presets, RECIPE))
