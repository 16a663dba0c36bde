"""A new model in one file (three networks, groups and phases) passing the whole contract harness."""

import keras
import numpy as np
import tensorflow as tf

from kgan import losses, registry
from kgan.models.base import AdversarialModel, Phase, stream
from kgan.networks import mlp_discriminator, mlp_generator
from tests.test_case import ContractCase, ModelContract, register_contract_case

LEAST_SQUARES = losses.get_loss_family("least_squares")
POINTS = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)  # Standard normal in 2-D.


@keras.saving.register_keras_serializable(package="kgan_tests")
class InvertibleLSGAN(AdversarialModel):
    """LSGAN (Mao et al. 2017) plus an encoder E trained on ``||E(G(z)) - z||^2`` with its own optimizer."""

    groups = {"generator": ("generator",), "discriminator": ("discriminator",), "encoder": ("encoder",)}
    metric_names = ("d_loss", "g_loss", "e_loss")

    def __init__(self, generator, discriminator, encoder, latent_dim, seed=0, **kwargs):
        super().__init__({"generator": generator, "discriminator": discriminator, "encoder": encoder}, seed=seed, **kwargs)
        self.latent_dim = int(latent_dim)

    def phases(self):
        return [Phase("discriminator", metric="d_loss"), Phase("generator", metric="g_loss"), Phase("encoder", metric="e_loss")]

    def discriminator_inputs(self, minibatch, index, state=None, training=True):
        return {"z": self.normal_noise(self.batch_size_of(minibatch), (self.latent_dim,), stream("latent", index), training)}

    generator_inputs = encoder_inputs = discriminator_inputs

    def discriminator_loss(self, real, inputs, training=True):
        logits = [self.discriminate(x, training=training)[0] for x in (real, self.generate_batch(inputs["z"], training=training))]
        return LEAST_SQUARES.discriminator(*logits), {}

    def generator_loss(self, real, inputs, training=True):
        return LEAST_SQUARES.generator(self.discriminate(self.generate_batch(inputs["z"], training=training), training=training)[0]), {}

    def encoder_loss(self, real, inputs, training=True):
        fake = tf.stop_gradient(self.generate_batch(inputs["z"], training=training))
        return tf.reduce_mean(tf.square(self.encoder(fake, training=training) - inputs["z"])), {}

    def call(self, z, training=False):
        return tf.cast(self.sampling_generator(z, training=training), tf.float32)

    def serving_endpoints(self):
        @tf.function(input_signature=[tf.TensorSpec([None, self.latent_dim], tf.float32, name="z")])
        def serving_default(z):
            return {"samples": self(z), "codes": tf.cast(self.encoder(self(z), training=False), tf.float32)}

        return {"serving_default": serving_default}

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim}


registry.register(registry.ModelSpec("invertible_lsgan", InvertibleLSGAN))


def make(latent_dim=4):
    keras.utils.set_random_seed(0)
    return InvertibleLSGAN(mlp_generator(latent_dim, 2, (16,)), mlp_discriminator(2, (16,)),
                           mlp_generator(2, latent_dim, (16,), name="encoder"), latent_dim, seed=1)


class TestInvertibleLSGANContract(ModelContract):  # The whole harness, in one line of registration.
    case = register_contract_case(ContractCase("invertible_lsgan", make, lambda: POINTS[:8], lambda: (np.zeros((8, 3), np.float32), "shape"),
                                               {"serving_default": {"z": np.ones((3, 4), np.float32)}},
                                               bad_values=lambda: (np.where(np.arange(16).reshape(8, 2) == 5, np.nan, POINTS[:8]).astype(np.float32),
                                                                   r"samples contain NaN or Inf values \(1 of 16\)"),
                                               module="tests.test_invertible_lsgan"))


def test_the_encoder_learns_to_invert_the_generator():
    model = make(latent_dim=2)
    model.compile(optimizers={"encoder": keras.optimizers.Adam(1e-2)})
    history = model.fit(tf.data.Dataset.from_tensors(POINTS).repeat(), steps_per_epoch=300, verbose=0)
    assert history.history["e_loss"][-1] < 0.4, history.history  # An encoder that knows nothing: E[z^2] = 1.
