"""`GRAN`: a GAN whose generator draws on a canvas over several steps (Im et al. 2016).

Im, Kim, Jiang and Memisevic (2016), "Generating images with recurrent
adversarial networks" (arXiv:1602.05110). The game is GAN's; the generator is
`kgan.networks.gran.gran_generator`, a `RecurrentCanvas` that adds T decoded
updates to a canvas, each conditioned on the canvas so far. `canvas_steps`
returns the sample after every step (the paper's Fig. 2 / 6 views).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from kgan import serving
from kgan.models.gan import GAN
from kgan.networks.gran import RecurrentCanvas

#: Layer name of the generator's `RecurrentCanvas` (as `gran_generator` builds it).
CANVAS_LAYER = "canvas"


@keras.saving.register_keras_serializable(package="kgan")
class GRAN(GAN):
    """GAN with a recurrent canvas generator, trained with `fit` on batches of images.

    Takes every `GAN` argument; ``generator`` must hold a `RecurrentCanvas`
    layer named ``"canvas"`` (`kgan.networks.gran.gran_generator`).
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int, **kwargs):
        layer = next((l for l in generator.layers if l.name == CANVAS_LAYER), None)
        if not isinstance(layer, RecurrentCanvas):
            raise ValueError(f"GRAN's generator draws on a canvas: it needs a RecurrentCanvas layer named {CANVAS_LAYER!r}; "
                             f"{generator.name!r} has none. Build it with kgan.networks.gran.gran_generator.")
        super().__init__(generator, discriminator, latent_dim, **kwargs)

    @property
    def num_canvas_steps(self) -> int:
        """T, the canvas updates per sample."""
        return self.generator.get_layer(CANVAS_LAYER).steps

    def canvas_steps(self, z, training=False):
        """The sampling generator's image after each step: float32 ``[B, T, H, W, C]`` in [-1, 1] (the last is ``self(z)``)."""
        return tf.stack(self.sampling_generator.get_layer(CANVAS_LAYER).canvases(tf.cast(z, tf.float32), training=training), axis=1)

    def serving_endpoints(self):
        """`GAN`'s ``serving_default`` and ``sample``, and ``canvases(num_images int32 [], seed int64 [])`` ->
        ``canvases`` float32 ``[N, T, H, W, C]``: the same samples as ``sample``'s after each canvas step."""
        endpoints = super().serving_endpoints()
        latent_dim = self.latent_dim

        @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="num_images"), tf.TensorSpec([], tf.int64, name="seed")])
        def canvases(num_images, seed):
            num_images = serving.checked_count(num_images)
            z = tf.random.stateless_normal(tf.stack([num_images, latent_dim]), seed=tf.stack([seed, tf.constant(0, tf.int64)]))
            return {"canvases": self.canvas_steps(z)}

        return {**endpoints, "canvases": canvases}


def _register():
    from kgan import registry
    from kgan.configs import gran as gran_configs

    registry.register(registry.ModelSpec("gran", GRAN, gran_configs.GRANConfig, gran_configs.PRESETS))


_register()
