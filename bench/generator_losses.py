r"""The three generator losses of the GAN lectures, and their gradients, as functions of D(G(z)).

Goodfellow (2016), "NIPS 2016 Tutorial: Generative Adversarial Networks",
Sec. 3.2 and Fig. 16, compares the generator costs that share the
discriminator's cross-entropy:

* ``minimax``: J_G = E log(1 - D(G(z))) (saturates where D rejects the samples);
* ``non_saturating``: J_G = -E log D(G(z));
* ``maximum_likelihood``: J_G = -1/2 E exp(sigma^-1(D(G(z)))).

This script evaluates kgan's own loss functions (`kgan.losses`) and their
gradients (with `tf.GradientTape`) at D(G(z)) from 1e-4 to 1 - 1e-4, prints
the values at a few points as a table, and draws two panels: J_G against
D(G(z)) (the tutorial's figure) and dJ_G / d logit, the signal the generator
receives through D's last layer. Needs matplotlib (``pip install -e ".[bench]"``).

Example::

    python bench/generator_losses.py --out=docs/images/generator_losses.png
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

import figure_tools  # noqa: E402  (bench/figure_tools.py)

from kgan import losses  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("out", "docs/images/generator_losses.png", "Where the figure goes (PNG).")
flags.DEFINE_integer("points", 2001, "D(G(z)) values on the curves.")

FAMILIES = ("minimax", "non_saturating", "maximum_likelihood")
TABLE_AT = (0.001, 0.01, 0.1, 0.5, 0.9, 0.99)


def curves(d_values):
    """``{family: (J_G per sample [N], dJ_G/dlogit per sample [N])}`` at D(G(z)) = ``d_values``."""
    logits = tf.Variable(np.log(d_values / (1 - d_values)).astype(np.float32)[:, None])
    count = float(len(d_values))
    found = {}
    for name in FAMILIES:
        generator_loss = losses.get_loss_family(name).generator
        # The losses are means over the batch: each sample's value is the loss of a batch of one, and
        # count x the batch mean has each sample's own d(loss)/d(logit) (the samples do not interact).
        values = tf.map_fn(lambda row: generator_loss(row[None]), logits.read_value())
        with tf.GradientTape() as tape:
            total = count * generator_loss(logits)
        found[name] = (values.numpy(), tape.gradient(total, logits).numpy()[:, 0])
    return found


def _table(found, d_values) -> str:
    rows = ["| D(G(z)) | " + " | ".join(f"J_G {n}" for n in FAMILIES) + " | " + " | ".join(f"dJ/dlogit {n}" for n in FAMILIES) + " |",
            "| --- " * (1 + 2 * len(FAMILIES)) + "|"]
    for d in TABLE_AT:
        i = int(np.argmin(np.abs(d_values - d)))
        values = [f"{found[n][0][i]:.4g}" for n in FAMILIES] + [f"{found[n][1][i]:.4g}" for n in FAMILIES]
        rows.append(f"| {d_values[i]:.3g} | " + " | ".join(values) + " |")
    return "\n".join(rows)


def main(argv):
    del argv
    pyplot = figure_tools.pyplot("generator_losses.py")
    d_values = np.linspace(1e-4, 1 - 1e-4, FLAGS.points)
    found = curves(d_values)
    print(_table(found, d_values))
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(10, 4), dpi=100)
    labels = {"minimax": "minimax: log(1 - D)", "non_saturating": "non-saturating: -log D",
              "maximum_likelihood": "maximum likelihood: -exp(σ⁻¹(D)) / 2"}
    for name in FAMILIES:
        left.plot(d_values, found[name][0], label=labels[name])
        right.plot(d_values, found[name][1], label=labels[name])
    left.set(xlabel="D(G(z))", ylabel="J_G", ylim=(-20, 10), title="generator loss (Goodfellow 2016, Fig. 16)")
    right.set(xlabel="D(G(z))", ylabel="dJ_G / d logit", ylim=(-5, 0.5), title="its gradient through D's logit")
    for axis in (left, right):
        axis.axhline(0.0, color="grey", linewidth=0.5)
        axis.legend(fontsize=8)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
    figure.savefig(FLAGS.out)
    print(f"figure: {FLAGS.out}")


if __name__ == "__main__":
    app.run(main)
