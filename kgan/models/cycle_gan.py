"""`CycleGAN`: unpaired image-to-image translation (Zhu et al. 2017)."""

from __future__ import annotations

import keras
import tensorflow as tf

from kgan import losses, serving
from kgan.data.validation import check_image_batch
from kgan.image_pool import ImagePool
from kgan.arguments import check_weight
from kgan.data import graph_checks
from kgan.models.base import AdversarialModel, Phase, stream

# kgan.losses' least-squares generator term is LSGAN's 0.5 E[(D(G(x)) - 1)^2];
# CycleGAN's objective (eq. 1 and 3 with the LSGAN replacement of section 4)
# weights E[(D(G(x)) - 1)^2] by 1 against lambda = 10 for the cycle term. The
# discriminator term matches the reference already (its 0.5 slows D down).
_GENERATOR_TERM_SCALE = {"least_squares": 2.0}


@keras.saving.register_keras_serializable(package="kgan")
class CycleGAN(AdversarialModel):
    """Two generators G: X -> Y, F: Y -> X and discriminators D_X, D_Y, trained with `fit`.

    "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
    Networks", Zhu et al. 2017. One `train_step` on an unpaired batch
    ``(x, y)``:

    1. generator update (both G and F, one optimizer) on
       ``L_adv(G, D_Y) + L_adv(F, D_X) + lambda (|F(G(x)) - x| + |G(F(y)) - y|)
       + identity_loss_weight * lambda (|G(y) - y| + |F(x) - x|)``;
    2. discriminator update (D_X and D_Y, one optimizer) on real images
       against fakes from step 1 passed through an `kgan.image_pool.ImagePool`
       per domain (Shrivastava et al. 2017).

    One optimizer per pair, as in the reference implementation: Adam keeps
    per-parameter state, so this equals one optimizer per network.

    Under `tf.distribute`, each step gathers the replicas' fakes, queries the
    pools with the same noise on every replica (so pools stay identical and
    equal to a single device's) and hands each replica its slice back. This
    needs equal per-replica batches, which endless (``repeat``) datasets give.

    Args:
      generator_xy: G, `keras.Model` images of X ``[B, H, W, C_x]`` in [-1, 1]
        -> images of Y ``[B, H, W, C_y]`` in [-1, 1].
      generator_yx: F, Y -> X likewise.
      discriminator_x: D_X, images of X -> logits of any shape ``[B, ...]``
        (a PatchGAN map).
      discriminator_y: D_Y, images of Y -> logits.
      loss: adversarial loss family of `kgan.losses.LOSS_FAMILIES`;
        ``"least_squares"`` (the paper's), ``"non_saturating"`` or ``"hinge"``.
      cycle_loss_weight: lambda of the cycle-consistency terms (10).
      identity_loss_weight: weight of the identity terms *relative to*
        ``cycle_loss_weight`` (the paper's convention: 0.5, i.e. 5 absolute);
        0 disables them (needed when X and Y have different channel counts).
      pool_size: capacity of each image pool (50); 0 disables the pools.
      seed: seeds the pools' randomness.
      **kwargs: `keras.Model` arguments (``name``).

    Metrics (epoch means): ``d_loss`` (D_X + D_Y), ``g_loss`` (the total
    generator objective), ``adversarial_loss`` (its two adversarial terms),
    ``cycle_loss`` and ``identity_loss`` (unweighted sums of both directions'
    mean absolute errors, in [-1, 1] pixel units).
    """

    metric_names = ("d_loss", "g_loss", "adversarial_loss", "cycle_loss", "identity_loss")
    groups = {"generator": ("generator_xy", "generator_yx"), "discriminator": ("discriminator_x", "discriminator_y")}

    def __init__(
        self,
        generator_xy: keras.Model,
        generator_yx: keras.Model,
        discriminator_x: keras.Model,
        discriminator_y: keras.Model,
        loss: str = "least_squares",
        cycle_loss_weight: float = 10.0,
        identity_loss_weight: float = 0.5,
        pool_size: int = 50,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(
            {"generator_xy": generator_xy, "generator_yx": generator_yx, "discriminator_x": discriminator_x,
             "discriminator_y": discriminator_y}, seed=seed, **kwargs,
        )
        self.loss_family = losses.get_loss_family(loss)
        if loss == "wasserstein":
            raise ValueError("CycleGAN has no gradient penalty or clipping: use 'least_squares', 'non_saturating' or 'hinge'.")
        self.loss_name = loss
        self.cycle_loss_weight = check_weight("cycle_loss_weight", cycle_loss_weight)
        self.identity_loss_weight = check_weight("identity_loss_weight", identity_loss_weight)
        self.pool_size = int(pool_size)
        self.x_shape = tuple(generator_xy.input_shape[1:])
        self.y_shape = tuple(generator_yx.input_shape[1:])
        self._check_networks()
        self.pool_x = ImagePool(self.pool_size, self.x_shape, name="pool_x")
        self.pool_y = ImagePool(self.pool_size, self.y_shape, name="pool_y")

    def _check_networks(self):
        if tuple(self.generator_xy.output_shape[1:]) != self.y_shape:
            raise ValueError(
                f"generator_xy maps {self.x_shape} to {tuple(self.generator_xy.output_shape[1:])}, but "
                f"generator_yx takes {self.y_shape}: they must be inverse directions X -> Y and Y -> X."
            )
        if tuple(self.generator_yx.output_shape[1:]) != self.x_shape:
            raise ValueError(
                f"generator_yx maps {self.y_shape} to {tuple(self.generator_yx.output_shape[1:])}; expected X images {self.x_shape}."
            )
        for name, network, shape in (("discriminator_x", self.discriminator_x, self.x_shape), ("discriminator_y", self.discriminator_y, self.y_shape)):
            if tuple(network.input_shape[1:]) != shape:
                raise ValueError(f"{name} takes {tuple(network.input_shape[1:])} but its domain's images are {shape}.")
        if self.identity_loss_weight and self.x_shape != self.y_shape:
            raise ValueError(
                f"The identity loss feeds Y images {self.y_shape} to G, which takes X images {self.x_shape}: "
                "set identity_loss_weight=0 for domains of different shapes."
            )

    # ------------------------------------------------------------------ networks

    def call(self, images, training=False):
        """G's forward pass (its EMA with ``generator_ema``): X images ``[B, H, W, C]`` in [-1, 1] -> Y images, float32."""
        return tf.cast(self.sampling_network("generator_xy")(images, training=training), tf.float32)

    def translate(self, images, direction: str = "x_to_y", batch_size: int = serving.MAX_SAMPLED_IMAGES):
        """Translates float images ``[N, H, W, C]`` in [-1, 1]: ``direction`` is ``"x_to_y"`` (G) or ``"y_to_x"`` (F).

        The generator runs on ``batch_size`` images at a time
        (`kgan.serving.in_chunks`), so any N costs its output plus one
        chunk's activations; float32 ``[N, H, W, C_out]`` in [-1, 1].
        """
        if direction not in ("x_to_y", "y_to_x"):
            raise ValueError(f"direction must be 'x_to_y' or 'y_to_x'; got {direction!r}.")
        network = self.sampling_network("generator_xy" if direction == "x_to_y" else "generator_yx")
        return serving.in_chunks(lambda batch: tf.cast(network(batch, training=False), tf.float32), images, batch_size)

    def preview_rows(self, inputs):
        """Rows of a progress picture (`kgan.callbacks.TranslationGrid`) for ``(x, y)`` images.

        Returns ``[x, G(x), F(G(x)), y, F(y), G(F(y))]``, each float32 ``[N, H, W, C]``.
        """
        x, y = inputs
        fake_y = self.translate(x, "x_to_y")
        fake_x = self.translate(y, "y_to_x")
        return [x, fake_y, self.translate(fake_y, "y_to_x"), y, fake_x, self.translate(fake_x, "x_to_y")]

    # ------------------------------------------------------------------ phases and losses

    def phases(self):
        """The generators first, then the discriminators on the (pooled) fakes just made."""
        return [Phase("generator", metric="g_loss"), Phase("discriminator", metric="d_loss")]

    def _adversarial_generator_term(self, logits):
        scale = _GENERATOR_TERM_SCALE.get(self.loss_name, 1.0)
        return scale * self.loss_family.generator(logits)

    def generator_inputs(self, minibatch, index, state=None, training=True):
        """DiffAugment's parameters for the fakes the discriminators judge (none without DiffAugment)."""
        return self.augment_params(self.batch_size_of(minibatch), index, training, ("fake",))

    def generator_loss(self, minibatch, inputs=None, training=True):
        """The generators' objective on an unpaired batch ``(x, y)``; returns ``(loss, extras)``.

        ``extras`` holds the fakes ``fake_x = F(y)`` and ``fake_y = G(x)``
        (for the discriminator phase) and the unweighted loss terms.
        """
        x, y = minibatch
        augment = (inputs or {}).get("augment_fake")
        fake_y = self.generator_xy(x, training=training)
        fake_x = self.generator_yx(y, training=training)
        adversarial = self._adversarial_generator_term(
            self.discriminate(fake_y, augment=augment, training=training, network="discriminator_y")[0]
        ) + self._adversarial_generator_term(self.discriminate(fake_x, augment=augment, training=training, network="discriminator_x")[0])
        extras = {
            "fake_x": tf.stop_gradient(tf.cast(fake_x, tf.float32)),
            "fake_y": tf.stop_gradient(tf.cast(fake_y, tf.float32)),
            "adversarial_loss": adversarial,
        }
        return self.weighted_terms(
            adversarial, extras,
            cycle_loss=(self.cycle_loss_weight, lambda: losses.cycle_consistency_loss(x, self.generator_yx(fake_y, training=training))
                        + losses.cycle_consistency_loss(y, self.generator_xy(fake_x, training=training))),
            identity_loss=(self.identity_loss_weight * self.cycle_loss_weight, lambda: losses.identity_loss(
                y, self.generator_xy(y, training=training)) + losses.identity_loss(x, self.generator_yx(x, training=training))),
        )

    def pooled(self, pool: ImagePool, fakes, stream: int):
        """Fakes to train D on: a query of ``pool`` with this step's noise (replica-consistent)."""
        gathered = self.gather_replicas(fakes)
        total = tf.shape(gathered)[0]
        coins = self.global_uniform_noise([total], stream)
        slots = self.global_uniform_noise([total], stream + 1)
        return self.replica_slice(pool.query(gathered, coins, slots), tf.shape(fakes)[0])

    def discriminator_inputs(self, minibatch, index, state, training=True):
        """The generator phase's fakes, passed through the image pools in training, and DiffAugment's parameters."""
        fake_x, fake_y = state["fake_x"], state["fake_y"]
        if training:
            fake_x = self.pooled(self.pool_x, fake_x, stream("pool", 0))
            fake_y = self.pooled(self.pool_y, fake_y, stream("pool", 2))
        return {"fake_x": fake_x, "fake_y": fake_y, **self.augment_params(self.batch_size_of(minibatch), index, training)}

    def discriminator_loss(self, minibatch, inputs, training=True):
        """D_X's and D_Y's losses on real images against the (pooled) fakes; returns ``(loss, extras)``."""
        x, y = minibatch

        def one(network, real, fake):
            return self.loss_family.discriminator(
                self.discriminate(real, augment=inputs.get("augment_real"), training=training, network=network)[0],
                self.discriminate(fake, augment=inputs.get("augment_fake"), training=training, network=network)[0],
            )

        return one("discriminator_x", x, inputs["fake_x"]) + one("discriminator_y", y, inputs["fake_y"]), {}

    # ------------------------------------------------------------------ serving

    def serving_endpoints(self):
        """Named `tf.function`s for `kgan.export`.

        * ``x_to_y(images float32 [N, H, W, C_x] in [-1, 1])`` and ``y_to_x``
          likewise -> ``images`` float32 in [-1, 1], ``images_uint8`` and
          ``images_png_bytes`` (one PNG file per image);
        * ``x_to_y_uint8(images uint8)`` and ``y_to_x_uint8``: the same for
          uint8 pixels in [0, 255];
        * ``serving_default`` = ``x_to_y``.

        Images of another rank or ``H, W, C``, float values outside [-1, 1] or
        more images than the export's ``max_batch_size``
        (`kgan.serving.MAX_SAMPLED_IMAGES` by default) fail the request with
        an InvalidArgument error that names the expected shape
        (`kgan.serving.checked_images`).
        """
        endpoints = {}
        for direction, shape in (("x_to_y", self.x_shape), ("y_to_x", self.y_shape)):
            network = self.sampling_network("generator_xy" if direction == "x_to_y" else "generator_yx")
            endpoints.update(serving.translation_endpoints(direction, lambda x, n=network: n(x, training=False), shape))
        endpoints["serving_default"] = endpoints["x_to_y"]
        return endpoints

    # ------------------------------------------------------------------ checks & config

    def batch_value_checks(self, batch):
        return [graph_checks.ValueCheck("images_x", batch[0], "images"), graph_checks.ValueCheck("images_y", batch[1], "images")]

    def check_batch(self, batch):
        batch = self.unpack_batch(batch)
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError(
                "CycleGAN trains on unpaired batches (images_x, images_y): a dataset of 2-tuples of image "
                f"batches, e.g. kgan.data.load_unpaired(...); got {type(batch).__name__}."
            )
        check_image_batch(batch[0], expected_shape=self.x_shape, name="images_x")
        check_image_batch(batch[1], expected_shape=self.y_shape, name="images_y")

    def get_config(self):
        return {
            **super().get_config(),
            "loss": self.loss_name,
            "cycle_loss_weight": self.cycle_loss_weight,
            "identity_loss_weight": self.identity_loss_weight,
            "pool_size": self.pool_size,
        }


def _register():
    from kgan import configs, registry

    registry.register(registry.ModelSpec("cycle_gan", CycleGAN, configs.CycleGANConfig, configs.CYCLE_GAN_PRESETS))


_register()
