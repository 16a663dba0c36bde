"""The recurrent generator of GRAN (Im, Kim, Jiang and Memisevic 2016), which draws on a canvas in steps.

Im et al. (2016), "Generating images with recurrent adversarial networks"
(arXiv:1602.05110), Sec. 3: the generator keeps a canvas C (zeros at first)
and, for t = 1..T, encodes the canvas so far, h_c = g(C_{t-1}), joins it to
the projected noise h_z = tanh(W z + b), and decodes an update
dC_t = f([h_z, h_c]) that is added to the canvas, C_t = C_{t-1} + dC_t. The
sample is tanh(C_T) (the paper: sigma of the sum). g is a small strided
convolutional encoder and f a DCGAN-style decoder; both are shared by every
step, so T is a free choice (`RecurrentCanvas`). The discriminator is an
ordinary one (`kgan.networks.dcgan_discriminator`).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from kgan.networks.fused_batch_norm import FusedBatchNormalization


def _canvas_encoder(image_shape, filters: int, hidden_units: int, name: str) -> keras.Model:
    """g: canvas ``[B, H, W, C]`` -> ``[B, hidden_units]`` (two stride-2 convolutions, LeakyReLU, tanh code)."""
    canvas = keras.Input(tuple(image_shape), name="canvas")
    x = canvas
    for i, multiple in enumerate((1, 2)):
        x = layers.LeakyReLU(0.2, name=f"conv{i}_act")(layers.Conv2D(filters * multiple, 4, strides=2, padding="same", name=f"conv{i}")(x))
    code = layers.Dense(hidden_units, activation="tanh", name="code")(layers.Flatten(name="flatten")(x))
    return keras.Model(canvas, code, name=name)


def _canvas_decoder(image_shape, filters: int, width: int, normalization: bool, name: str) -> keras.Model:
    """f: ``[B, width]`` -> a canvas update ``[B, H, W, C]`` (linear): Dense to H/4 x W/4, two 4x4 stride-2 deconvolutions."""
    height, wide, channels = image_shape
    code = keras.Input((width,), name="code")
    x = layers.Dense((height // 4) * (wide // 4) * filters * 2, name="project")(code)
    if normalization:
        x = FusedBatchNormalization(name="project_bn")(x)
    x = layers.Reshape((height // 4, wide // 4, filters * 2), name="grid")(layers.ReLU(name="project_act")(x))
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", name="up0")(x)
    if normalization:
        x = FusedBatchNormalization(name="up0_bn")(x)
    x = layers.ReLU(name="up0_act")(x)
    update = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", dtype="float32", name="update")(x)
    return keras.Model(code, update, name=name)


@keras.saving.register_keras_serializable(package="kgan")
class RecurrentCanvas(layers.Layer):
    """z ``[B, latent_dim]`` -> images ``[B, H, W, C]`` in [-1, 1], drawn in ``steps`` canvas updates (GRAN, Sec. 3).

    Args:
      image_shape: ``(H, W, C)``, H and W divisible by 4.
      steps: T >= 1 updates of the canvas.
      hidden_units: width of h_z and of h_c.
      base_filters: the encoder's first and the decoder's last hidden filters.
      normalization: batch normalisation in the decoder (DCGAN's generator
        has it; off for models that must train alike on several replicas).
    """

    def __init__(self, image_shape, steps: int = 3, hidden_units: int = 128, base_filters: int = 64,
                 normalization: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        if len(self.image_shape) != 3 or self.image_shape[0] % 4 or self.image_shape[1] % 4:
            raise ValueError(f"A recurrent canvas draws images (H, W, C) with H and W divisible by 4; got {tuple(image_shape)}.")
        if isinstance(steps, bool) or int(steps) < 1:
            raise ValueError(f"steps must be >= 1; got {steps!r}.")
        self.steps, self.hidden_units, self.base_filters = int(steps), int(hidden_units), int(base_filters)
        self.normalization = bool(normalization)
        self.projection = layers.Dense(self.hidden_units, activation="tanh", name="z_projection")
        self.encoder = _canvas_encoder(self.image_shape, self.base_filters, self.hidden_units, "canvas_encoder")
        self.decoder = _canvas_decoder(self.image_shape, self.base_filters, 2 * self.hidden_units, self.normalization, "canvas_decoder")

    def build(self, input_shape):
        self.projection.build(input_shape)
        self.built = True

    def canvases(self, z, training=None) -> list:
        """``[tanh(C_1), ..., tanh(C_T)]``: the sample after each step, float32 ``[B, H, W, C]`` each."""
        h_z = self.projection(z)
        canvas = ops.zeros((ops.shape(z)[0], *self.image_shape), dtype="float32")
        drawn = []
        for _ in range(self.steps):
            h_c = ops.cast(self.encoder(ops.cast(canvas, self.compute_dtype), training=training), h_z.dtype)
            canvas = canvas + ops.cast(self.decoder(ops.concatenate([h_z, h_c], axis=-1), training=training), "float32")
            drawn.append(ops.tanh(canvas))
        return drawn

    def call(self, z, training=None):
        return self.canvases(z, training=training)[-1]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape), "steps": self.steps,
                "hidden_units": self.hidden_units, "base_filters": self.base_filters, "normalization": self.normalization}


def gran_generator(latent_dim: int, image_shape=(28, 28, 1), steps: int = 3, hidden_units: int = 128,
                   base_filters: int = 64, normalization: bool = True, name: str = "generator") -> keras.Model:
    """GRAN's generator: z ``[B, latent_dim]`` -> images ``[B, H, W, C]`` in [-1, 1] (float32), a `RecurrentCanvas`."""
    z = keras.Input((int(latent_dim),), name="z")
    canvas = RecurrentCanvas(image_shape, steps, hidden_units, base_filters, normalization, name="canvas")
    return keras.Model(z, canvas(z), name=name)
