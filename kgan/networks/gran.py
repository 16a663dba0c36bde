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
        Each step has its own batch-norm layers while the decoder's weights
        are shared: the steps' activations differ in scale, and moving
        statistics averaged over all steps would mis-normalise every one
        of them when sampling (per-step statistics, as Cooijmans et al.
        2017 do for recurrent batch norm).

    The decoder f: ``[h_z, h_c]`` -> a Dense projection to ``H/4 x W/4 x
    2 base_filters``, two 4x4 stride-2 transposed convolutions (ReLU between;
    the last linear, C channels).
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
        height, width, channels = self.image_shape
        self._grid = (height // 4, width // 4, 2 * self.base_filters)
        self.decoder_project = layers.Dense(self._grid[0] * self._grid[1] * self._grid[2], name="decoder_project")
        self.decoder_up = layers.Conv2DTranspose(self.base_filters, 4, strides=2, padding="same", name="decoder_up")
        self.decoder_update = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", dtype="float32", name="decoder_update")
        self.step_norms = [
            (FusedBatchNormalization(name=f"step{t}_project_bn"), FusedBatchNormalization(name=f"step{t}_up_bn"))
            for t in range(self.steps)
        ] if self.normalization else []

    def build(self, input_shape):
        self.projection.build(input_shape)
        height, width, _ = self.image_shape
        self.decoder_project.build((None, 2 * self.hidden_units))
        self.decoder_up.build((None, *self._grid))
        self.decoder_update.build((None, height // 2, width // 2, self.base_filters))
        for project_norm, up_norm in self.step_norms:
            project_norm.build((None, self._grid[0] * self._grid[1] * self._grid[2]))
            up_norm.build((None, height // 2, width // 2, self.base_filters))
        self.built = True

    def decode(self, code, step: int, training=None):
        """f at step ``step`` (0-based): code ``[B, 2 hidden_units]`` -> the canvas update ``[B, H, W, C]`` (float32, linear)."""
        x = self.decoder_project(code)
        if self.step_norms:
            x = self.step_norms[step][0](x, training=training)
        x = ops.reshape(ops.relu(x), (-1, *self._grid))
        x = self.decoder_up(x)
        if self.step_norms:
            x = self.step_norms[step][1](x, training=training)
        return ops.cast(self.decoder_update(ops.relu(x)), "float32")

    def canvases(self, z, training=None) -> list:
        """``[tanh(C_1), ..., tanh(C_T)]``: the sample after each step, float32 ``[B, H, W, C]`` each."""
        h_z = self.projection(z)
        canvas = ops.zeros((ops.shape(z)[0], *self.image_shape), dtype="float32")
        drawn = []
        for step in range(self.steps):
            h_c = ops.cast(self.encoder(ops.cast(canvas, self.compute_dtype), training=training), h_z.dtype)
            canvas = canvas + self.decode(ops.concatenate([h_z, h_c], axis=-1), step, training=training)
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
