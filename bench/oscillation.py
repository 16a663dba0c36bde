r"""The lectures' two other training failures, drawn: oscillation and vanishing gradients.

1. **Oscillation** (Goodfellow 2016, Sec. 8; Mescheder et al. 2017): the game
   f(x, y) = x y, x minimising and y maximising, has its equilibrium at 0, and
   gradient steps circle around it. Trained with kgan's own `GAN` on the Dirac
   GAN networks (`kgan.networks.dirac_gan_networks`: G = theta, D(x) = psi x,
   data at 0), the Wasserstein loss *is* this game (L_D = psi theta, L_G = -psi
   theta); the cross-entropy losses give the Dirac GAN of Mescheder et al.
   (2018), a real GAN: with the minimax loss its gradient field is x y's
   rotation scaled by sigma(theta psi), circles in continuous time; with the
   non-saturating G loss the field also pulls inwards wherever theta psi != 0.
   Each is trained with
   ``updates="simultaneous"`` (both step at once: the radius grows by
   sqrt(1 + eta^2) a step on x y), ``"alternating"`` (Algorithm 1: bounded
   orbits) and consensus optimization (``consensus=gamma``, simultaneous
   steps along the field plus gamma * grad 1/2 ||v||^2: spirals in).
2. **Vanishing gradients** (Goodfellow et al. 2014, Sec. 3): the minimax
   generator loss log(1 - D(G(z))) saturates when D rejects the samples, which
   it does early; the non-saturating -log D(G(z)) does not. A small DCGAN on
   the embedded Fashion-MNIST subset is trained with each loss for the first
   ``--gradient_steps`` steps, and the norm of the generator's gradient on a
   fixed batch of z is recorded after every step (median over ``--seeds``).

Prints the final radii and the gradient norms at a few steps, and draws the
trajectories and the norms into one figure. Needs matplotlib
(``pip install -e ".[bench]"``).

Example (about 3 minutes on two CPU cores)::

    python bench/oscillation.py --out=docs/images/oscillation.png
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

import figure_tools  # noqa: E402  (bench/figure_tools.py)

FLAGS = flags.FLAGS
flags.DEFINE_string("out", "docs/images/oscillation.png", "Where the figure goes (PNG).")
flags.DEFINE_integer("game_steps", 300, "Gradient steps on each game.")
flags.DEFINE_float("learning_rate", 0.1, "SGD step size on the games.")
flags.DEFINE_float("consensus", 1.0, "gamma of the consensus rows.")
flags.DEFINE_integer("gradient_steps", 200, "Training steps of the vanishing-gradient runs (0: skip them).")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds of the vanishing-gradient runs.")

RULES = {
    "simultaneous": dict(updates="simultaneous"),
    "alternating": dict(updates="alternating"),
    "consensus": "consensus",  # filled with --consensus
}
GAMES = {"x·y (Wasserstein loss)": "wasserstein", "Dirac GAN (minimax loss)": "minimax",
         "Dirac GAN (non-saturating loss)": "non_saturating"}


def game_trajectory(loss: str, options: dict, steps: int, learning_rate: float, start=(1.0, 1.0)):
    """``[(theta, psi)]`` after each of ``steps`` SGD steps of `kgan.GAN` on the Dirac GAN, starting at ``start``."""
    import keras
    import tensorflow as tf

    import kgan
    from kgan.networks import dirac_gan_networks

    model = kgan.GAN(**dirac_gan_networks(*start), latent_dim=1, loss=loss, **options)
    model.compile(optimizers={g: keras.optimizers.SGD(learning_rate) for g in ("generator", "discriminator")})
    points = [tuple(start)]

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            points.append((float(model.generator.trainable_variables[0].numpy()[0]),
                           float(model.discriminator.trainable_variables[0].numpy().ravel()[0])))

    # The data: a point mass at 0, one example per step.
    model.fit(tf.data.Dataset.from_tensors(tf.zeros([1, 1])).repeat(), steps_per_epoch=steps, epochs=1, verbose=0,
              callbacks=[Record()])
    return np.asarray(points)


def generator_gradient_norms(loss: str, steps: int, seed: int):
    """The norm of G's gradient of its loss on one fixed z batch, before and after each of ``steps`` training steps."""
    import keras
    import tensorflow as tf

    import kgan
    from kgan.data import load_images
    from kgan.networks import dcgan_discriminator, dcgan_generator

    keras.utils.set_random_seed(seed)
    model = kgan.GAN(dcgan_generator(64, (28, 28, 1), 16), dcgan_discriminator((28, 28, 1), 16), 64, loss=loss, seed=seed)
    model.compile()
    data = load_images("embedded_fashion_mnist", batch_size=64).repeat()
    probe = model.generator_noise(256, index=0, training=False)

    def norm():
        with tf.GradientTape() as tape:
            value, _ = model.generator_loss(None, probe, training=False)
        gradients = tape.gradient(value, model.generator.trainable_variables)
        return float(tf.linalg.global_norm(gradients))

    norms = [norm()]

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            norms.append(norm())

    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[Record()])
    return np.asarray(norms)


def main(argv):
    del argv
    pyplot = figure_tools.pyplot("oscillation.py")
    rules = dict(RULES, consensus=dict(consensus=FLAGS.consensus))
    trajectories = {
        (game, rule): game_trajectory(loss, options, FLAGS.game_steps, FLAGS.learning_rate)
        for game, loss in GAMES.items() for rule, options in rules.items()
    }
    print(f"Distance from the equilibrium (0, 0) after {FLAGS.game_steps} SGD steps of {FLAGS.learning_rate}, from (1, 1) "
          f"(start: {np.hypot(1, 1):.3f}); consensus gamma {FLAGS.consensus}:\n")
    print("| game | " + " | ".join(rules) + " |")
    print("|---|" + "---:|" * len(rules))
    for game in GAMES:
        print(f"| {game} | " + " | ".join(f"{np.hypot(*trajectories[(game, r)][-1]):.3f}" for r in rules) + " |")

    norms = {}
    if FLAGS.gradient_steps:
        seeds = [int(s) for s in FLAGS.seeds]
        for loss in ("minimax", "non_saturating"):
            norms[loss] = np.median([generator_gradient_norms(loss, FLAGS.gradient_steps, s) for s in seeds], axis=0)
        at = [0, 1, 10, 50, FLAGS.gradient_steps]
        print(f"\nGenerator gradient norm on a fixed z batch (DCGAN, embedded Fashion-MNIST, median over seeds {seeds}):\n")
        print("| loss | " + " | ".join(f"step {s}" for s in at) + " |")
        print("|---|" + "---:|" * len(at))
        for loss, values in norms.items():
            print(f"| {loss} | " + " | ".join(f"{values[min(s, len(values) - 1)]:.3g}" for s in at) + " |")

    panels = len(GAMES) + (1 if norms else 0)
    figure, axes = pyplot.subplots(1, panels, figsize=(4.2 * panels, 4), dpi=100)
    for axis, game in zip(axes, GAMES):
        for rule in rules:
            path = trajectories[(game, rule)]
            axis.plot(path[:, 0], path[:, 1], label=rule, linewidth=1)
        axis.plot([0], [0], "k*", label="equilibrium")
        axis.plot([1], [1], "ko", markersize=3)
        axis.set(xlabel="θ (generator)", ylabel="ψ (discriminator)", title=game, aspect="equal")
        axis.legend(fontsize=8)
    if norms:
        axis = axes[-1]
        for loss, values in norms.items():
            axis.semilogy(values, label=loss)
        axis.set(xlabel="training step", ylabel="‖∇_G J_G‖ on fixed z", title="vanishing gradients (DCGAN)")
        axis.legend(fontsize=8)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
    figure.savefig(FLAGS.out)
    print(f"\nfigure: {FLAGS.out}")


if __name__ == "__main__":
    app.run(main)
