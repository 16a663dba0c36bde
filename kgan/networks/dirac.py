"""The Dirac GAN (Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?", Sec. 2).

The smallest GAN, for studying training dynamics: the data is a point mass at
0, the generator is one number (``G(z) = theta`` for every z) and the
discriminator is linear (``D(x) = psi * x``, optionally ``+ b``). With the
Wasserstein loss and real data 0 the two losses are ``L_D = psi * theta`` and
``L_G = -psi * theta``: the lectures' bilinear game f(x, y) = x y. With the
cross-entropy losses it is the Dirac GAN whose simultaneous gradient steps
spiral away from the equilibrium ``theta = psi = 0``.
"""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="kgan")
class LearnedConstant(keras.layers.Layer):
    """Outputs one trainable vector for every input row, ignoring the input: ``[B, ...]`` -> ``[B, len(initial)]``."""

    def __init__(self, initial=(0.0,), **kwargs):
        super().__init__(**kwargs)
        self.initial = tuple(float(v) for v in initial)

    def build(self, input_shape):
        self.value = self.add_weight(name="value", shape=(len(self.initial),),
                                     initializer=keras.initializers.Constant(list(self.initial)))

    def call(self, inputs):
        return tf.broadcast_to(self.value[None, :], tf.stack([tf.shape(inputs)[0], len(self.initial)]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.initial))

    def get_config(self):
        return {**super().get_config(), "initial": list(self.initial)}


def dirac_gan_networks(theta: float = 1.0, psi: float = 1.0, bias: float | None = None) -> dict:
    """``{"generator": G, "discriminator": D}`` of the Dirac GAN, for `kgan.GAN(**networks, latent_dim=1)`.

    Args:
      theta: the generator's starting output (z ``[B, 1]`` is ignored).
      psi: the discriminator's starting slope; D maps ``[B, 1]`` to logits ``[B, 1]``.
      bias: with a number, D has a trainable bias starting there; None: no bias (the paper's D).
    """
    z = keras.Input((1,), name="z")
    generator = keras.Model(z, LearnedConstant((theta,), name="theta")(z), name="dirac_generator")
    x = keras.Input((1,), name="samples")
    layer = keras.layers.Dense(
        1, use_bias=bias is not None, kernel_initializer=keras.initializers.Constant(psi),
        bias_initializer=keras.initializers.Constant(0.0 if bias is None else bias), name="psi",
    )
    return {"generator": generator, "discriminator": keras.Model(x, layer(x), name="dirac_discriminator")}
