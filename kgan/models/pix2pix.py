"""`Pix2Pix`: paired image-to-image translation (Isola et al. 2017)."""

from __future__ import annotations

import keras
import tensorflow as tf

from kgan import losses, serving
from kgan.arguments import check_weight
from kgan.data import graph_checks
from kgan.data.validation import check_image_batch
from kgan.models.base import AdversarialModel

PIX2PIX_LOSSES = ("non_saturating", "least_squares", "hinge")
# The paper halves D's objective (section 3.1: "we divide the objective by 2 while optimizing
# D, which slows down the rate at which D learns relative to G"). kgan's least-squares D term
# carries that 0.5 already, and its G term is LSGAN's 0.5 E[(D - 1)^2]: scaled back to the
# reference's E[(D - 1)^2], as in `kgan.CycleGAN`.
_DISCRIMINATOR_SCALE = {"least_squares": 1.0}
_GENERATOR_SCALE = {"least_squares": 2.0}


@keras.saving.register_keras_serializable(package="kgan")
class Pix2Pix(AdversarialModel):
    """A conditional GAN G: x -> y with an L1 term, trained with `fit` on paired batches.

    "Image-to-Image Translation with Conditional Adversarial Networks",
    Isola et al. 2017. A batch is ``(inputs, targets)``: float32 ``[B, H, W,
    C_in]`` and ``[B, H, W, C_out]`` in [-1, 1], ``targets[i]`` the true
    translation of ``inputs[i]``. One `train_step`, as the paper alternates:

    1. discriminator update on ``0.5 (L(D(x, y), real) + L(D(x, G(x)), fake))``
       -- D sees the pair, so it judges whether y fits x (eq. 1);
    2. generator update on ``L(D(x, G(x)), real) + l1_weight |G(x) - y|``
       (eq. 4; the L1 term, a mean absolute error in [-1, 1] pixel units,
       makes G's output close to the target, the adversarial term makes it
       sharp).

    G takes no z: as in the paper, its only noise is dropout, active in
    training. Sampling (`call`, `translate`, the exports) runs G with
    ``training=False`` -- dropout off and batch norm's running statistics --
    so a served translation is a function of its input. The paper keeps
    dropout on at test time but reports that it changes the outputs very
    little (section 2.2); deterministic serving is worth more here. Dropout
    masks come from the Keras layers' own seed generators, not kgan's noise
    bands, so runs with dropout are reproducible on one device but two
    replicas do not draw what one device would.

    Args:
      generator: G, `keras.Model` inputs ``[B, H, W, C_in]`` in [-1, 1] ->
        outputs ``[B, H, W, C_out]`` in [-1, 1] (`kgan.networks.unet_generator`).
      discriminator: D, `keras.Model` taking ``[inputs, outputs]`` -> logits
        of any shape ``[B, ...]`` (`kgan.networks.conditional_patch_discriminator`).
      loss: adversarial loss family: ``"non_saturating"`` (the paper's
        cross-entropy), ``"least_squares"`` or ``"hinge"``.
      l1_weight: lambda of the L1 term (100 in the paper); 0 leaves the
        plain conditional GAN (section 4.2's "cGAN").
      seed: seeds the base's noise (DiffAugment); the dropout masks have the
        generator builder's seed.
      **kwargs: `AdversarialModel` remedies (``generator_ema``,
        ``historical_averaging``, ``diff_augment``: applied alike to x and y of
        each pair) and `keras.Model` arguments (``name``).

    Metrics (epoch means): ``d_loss`` (halved), ``g_loss`` (the whole
    generator objective), ``adversarial_loss`` (its adversarial term) and
    ``l1_loss`` (|G(x) - y|, unweighted).
    """

    metric_names = ("d_loss", "g_loss", "adversarial_loss", "l1_loss")
    groups = {"generator": ("generator",), "discriminator": ("discriminator",)}

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        loss: str = "non_saturating",
        l1_weight: float = 100.0,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__({"generator": generator, "discriminator": discriminator}, seed=seed, **kwargs)
        if loss not in PIX2PIX_LOSSES:
            raise ValueError(f"Pix2Pix takes loss in {PIX2PIX_LOSSES} (no gradient penalty or clipping); got {loss!r}.")
        self.loss_family = losses.get_loss_family(loss)
        self.loss_name = loss
        self.l1_weight = check_weight("l1_weight", l1_weight)
        self.x_shape = tuple(generator.input_shape[1:])
        self.y_shape = tuple(generator.output_shape[1:])
        self._check_networks()

    def _check_networks(self):
        if len(self.x_shape) != 3 or len(self.y_shape) != 3 or self.x_shape[:2] != self.y_shape[:2]:
            raise ValueError(
                f"The generator maps {self.x_shape} to {self.y_shape}: pix2pix translates images [H, W, C] "
                "to images of the same H, W."
            )
        if len(self.discriminator.inputs) != 2:
            raise ValueError(
                "The discriminator must take [inputs, outputs] (D(x, y), e.g. "
                f"kgan.networks.conditional_patch_discriminator); it takes {len(self.discriminator.inputs)} input(s)."
            )
        taken = tuple(tuple(t.shape[1:]) for t in self.discriminator.inputs)
        if taken != (self.x_shape, self.y_shape):
            raise ValueError(
                f"The discriminator takes {taken[0]} and {taken[1]}, but the generator maps {self.x_shape} "
                f"to {self.y_shape}: D takes [inputs, outputs] in that order."
            )

    # ------------------------------------------------------------------ networks

    def call(self, images, training=False):
        """G's forward pass (its EMA with ``generator_ema``): inputs ``[B, H, W, C_in]`` in [-1, 1] -> outputs, float32."""
        return tf.cast(self.sampling_network("generator")(images, training=training), tf.float32)

    def translate(self, images, batch_size: int = serving.MAX_SAMPLED_IMAGES):
        """G(x) of float images ``[N, H, W, C_in]`` in [-1, 1]: float32 ``[N, H, W, C_out]`` in [-1, 1].

        Deterministic (dropout off). The generator runs on ``batch_size``
        images at a time (`kgan.serving.in_chunks`), so any N costs its output
        plus one chunk's activations.
        """
        network = self.sampling_network("generator")
        return serving.in_chunks(lambda batch: tf.cast(network(batch, training=False), tf.float32), images, batch_size)

    def preview_rows(self, inputs):
        """Rows of a progress picture (`kgan.callbacks.TranslationGrid`) for paired ``(x, y)``: ``[x, G(x), y]``."""
        x, y = inputs
        return [x, self.translate(x), y]

    def discriminator_view(self, samples, condition=None, augment=None, network: str = "discriminator"):
        """D(x, y)'s inputs ``[x, y]`` for outputs ``samples`` (y) of inputs ``condition`` (x).

        With DiffAugment both halves get the same parameters, so a shifted
        or cut-out y still lines up with its x.
        """
        return [self.augment(condition, augment), self.augment(samples, augment)]

    # ------------------------------------------------------------------ phases and losses

    def discriminator_inputs(self, minibatch, index, state=None, training=True):
        """DiffAugment's parameters (none without DiffAugment): D's only noise besides G's dropout."""
        return self.augment_params(self.batch_size_of(minibatch), index, training)

    def discriminator_loss(self, minibatch, inputs, training=True):
        """D's loss on real pairs (x, y) against fake pairs (x, G(x)), halved; returns ``(loss, extras)``."""
        x, y = minibatch
        fake = tf.stop_gradient(self.generator(x, training=training))
        real_logits = self.discriminate(y, x, inputs.get("augment_real"), training)[0]
        fake_logits = self.discriminate(fake, x, inputs.get("augment_fake"), training)[0]
        scale = _DISCRIMINATOR_SCALE.get(self.loss_name, 0.5)
        loss = scale * self.loss_family.discriminator(real_logits, fake_logits)
        return loss, {}

    def generator_inputs(self, minibatch, index, state=None, training=True):
        """DiffAugment's parameters for the fake pairs D judges (none without DiffAugment)."""
        return self.augment_params(self.batch_size_of(minibatch), index, training, ("fake",))

    def generator_loss(self, minibatch, inputs=None, training=True):
        """G's objective ``adversarial + l1_weight * |G(x) - y|``; returns ``(loss, extras)``, terms unweighted."""
        x, y = minibatch
        fake = self.generator(x, training=training)
        logits = self.discriminate(fake, x, (inputs or {}).get("augment_fake"), training)[0]
        adversarial = _GENERATOR_SCALE.get(self.loss_name, 1.0) * self.loss_family.generator(logits)
        return self.weighted_terms(
            adversarial, {"adversarial_loss": adversarial}, l1_loss=(self.l1_weight, lambda: losses.l1_loss(fake, y)),
        )

    # ------------------------------------------------------------------ serving

    def serving_endpoints(self):
        """Named `tf.function`s for `kgan.export`.

        * ``translate(images float32 [N, H, W, C_in] in [-1, 1])`` ->
          ``images`` float32 in [-1, 1], ``images_uint8`` and
          ``images_png_bytes`` (one PNG file per image);
        * ``translate_uint8(images uint8)``: the same for uint8 pixels in [0, 255];
        * ``serving_default`` = ``translate``.

        Deterministic (dropout off). Images of another rank or ``H, W, C``,
        float values outside [-1, 1] or more images than the export's
        ``max_batch_size`` fail the request with an InvalidArgument error
        (`kgan.serving.checked_images`).
        """
        network = self.sampling_network("generator")
        endpoints = serving.translation_endpoints("translate", lambda x: network(x, training=False), self.x_shape)
        endpoints["serving_default"] = endpoints["translate"]
        return endpoints

    # ------------------------------------------------------------------ checks & config

    def batch_value_checks(self, batch):
        return [graph_checks.ValueCheck("inputs", batch[0], "images"), graph_checks.ValueCheck("targets", batch[1], "images")]

    def check_batch(self, batch):
        batch = self.unpack_batch(batch)
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError(
                "Pix2Pix trains on paired batches (inputs, targets): a dataset of 2-tuples of image batches, "
                f"e.g. kgan.data.load_paired_images(...); got {type(batch).__name__}."
            )
        check_image_batch(batch[0], expected_shape=self.x_shape, name="inputs")
        check_image_batch(batch[1], expected_shape=self.y_shape, name="targets")
        if len(batch[0]) != len(batch[1]):
            raise ValueError(f"inputs and targets must pair up one to one; got {len(batch[0])} inputs and {len(batch[1])} targets.")

    def get_config(self):
        return {**super().get_config(), "loss": self.loss_name, "l1_weight": self.l1_weight}


def _register():
    from kgan import registry
    from kgan.configs import pix2pix as pix2pix_configs

    registry.register(registry.ModelSpec("pix2pix", Pix2Pix, pix2pix_configs.Pix2PixConfig, pix2pix_configs.PRESETS))


_register()
