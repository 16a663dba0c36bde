"""Wasserstein GANs: `WGAN` (weight clipping) and `WGANGP` (gradient penalty)."""

from __future__ import annotations

import keras

from kgan import penalties
from kgan.arguments import check_weight
from kgan.models.base import stream
from kgan.models.gan import GAN


class _WassersteinGAN(GAN):
    """A `GAN` with the Wasserstein loss, logging the critic's estimate of W(P_r, P_g)."""

    metric_names = GAN.metric_names + ("wasserstein_estimate",)

    def __init__(self, generator, discriminator, latent_dim, discriminator_steps=5, seed=0, **kwargs):
        super().__init__(
            generator, discriminator, latent_dim, loss="wasserstein", discriminator_steps=discriminator_steps,
            seed=seed, **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        del config["loss"], config["label_smoothing"]
        return config


@keras.saving.register_keras_serializable(package="kgan")
class WGAN(_WassersteinGAN):
    """Wasserstein GAN with weight clipping (Arjovsky et al. 2017, Algorithm 1).

    The critic maximises ``E[D(x)] - E[D(G(z))]``; after every critic update
    its weights are clipped to ``[-clip_value, clip_value]`` to keep it
    (roughly) Lipschitz. ``discriminator_steps`` (n_critic) critic updates per
    generator update, each on its own real minibatch: a dataset batch of ``B``
    is split into n_critic minibatches of ``B // n_critic`` (see `GAN`).

    Args:
      generator: z ``[B, latent_dim]`` -> samples (images in [-1, 1]).
      discriminator: the critic, samples -> scores ``[B, ...]`` (no sigmoid).
      latent_dim: size of z.
      clip_value: c (0.01 in the paper).
      discriminator_steps: n_critic (5 in the paper).
      seed: seeds training noise.

    Default optimizers: RMSProp(5e-5) for both networks, as in the paper.
    Metrics: ``d_loss``, ``g_loss``, ``d_real``, ``d_fake``, ``wasserstein_estimate``.
    """

    def __init__(self, generator, discriminator, latent_dim, clip_value=0.01, discriminator_steps=5, seed=0, **kwargs):
        super().__init__(generator, discriminator, latent_dim, discriminator_steps, seed, **kwargs)
        self.clip_value = check_weight("clip_value", clip_value, positive=True)

    def default_optimizers(self):
        return keras.optimizers.RMSprop(5e-5), keras.optimizers.RMSprop(5e-5)

    def after_discriminator_update(self):
        penalties.clip_weights(self.discriminator_variables, self.clip_value)

    def get_config(self):
        return {**super().get_config(), "clip_value": self.clip_value}


@keras.saving.register_keras_serializable(package="kgan")
class WGANGP(_WassersteinGAN):
    """WGAN with gradient penalty (Gulrajani et al. 2017, Algorithm 1).

    Critic loss ``E[D(G(z))] - E[D(x)] + lambda * E[(||grad D(x_hat)||_2 - 1)^2]``
    with ``x_hat = eps x + (1 - eps) G(z)``, ``eps ~ U[0, 1]`` per example
    (`kgan.penalties.gradient_penalty`). The critic must not use batch
    normalisation (the penalty is per example): build it with
    ``dcgan_discriminator(..., normalization="layer")`` or ``"none"``.
    Batches feed n_critic steps as in `GAN`.

    Args:
      generator: z ``[B, latent_dim]`` -> samples.
      discriminator: the critic, samples -> scores.
      latent_dim: size of z.
      gradient_penalty_weight: lambda (10 in the paper).
      target_norm: the gradient norm the penalty pulls towards (1).
      one_sided_penalty: penalise only norms above ``target_norm``.
      discriminator_steps: n_critic (5 in the paper).
      seed: seeds training noise.

    Default optimizers: Adam(1e-4, beta_1=0, beta_2=0.9) for both, as in the paper.
    Metrics: ``d_loss`` (including the penalty), ``g_loss``, ``d_real``,
    ``d_fake``, ``wasserstein_estimate``, ``gradient_penalty`` (unweighted).
    """

    metric_names = _WassersteinGAN.metric_names + ("gradient_penalty",)

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        gradient_penalty_weight=10.0,
        target_norm=1.0,
        one_sided_penalty=False,
        discriminator_steps=5,
        seed=0,
        **kwargs,
    ):
        super().__init__(generator, discriminator, latent_dim, discriminator_steps, seed, **kwargs)
        self.gradient_penalty_weight = check_weight("gradient_penalty_weight", gradient_penalty_weight)
        self.target_norm = check_weight("target_norm", target_norm, positive=True)
        penalties.reject_batch_norm(discriminator)
        self.one_sided_penalty = bool(one_sided_penalty)

    def default_optimizers(self):
        return (
            keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
            keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
        )

    def discriminator_inputs(self, minibatch, index, state=None, training=True):
        inputs = super().discriminator_inputs(minibatch, index, state, training)
        inputs["epsilon"] = self.uniform_noise(self.batch_size_of(minibatch), (), stream("epsilon", index), training)
        return inputs

    def discriminator_terms(self, minibatch, fake, inputs, auxiliary, training=True):
        penalty = lambda: penalties.gradient_penalty(  # noqa: E731
            lambda x: self.discriminate(x, training=training)[0], minibatch, fake, inputs["epsilon"],
            target_norm=self.target_norm, one_sided=self.one_sided_penalty,
        )
        return {"gradient_penalty": (self.gradient_penalty_weight, penalty)}

    def get_config(self):
        return {
            **super().get_config(),
            "gradient_penalty_weight": self.gradient_penalty_weight,
            "target_norm": self.target_norm,
            "one_sided_penalty": self.one_sided_penalty,
        }


def _register():
    from kgan import configs, registry

    # One binary (train/wgan_gp.py) and config serve both; its `model` field picks the class.
    registry.register(registry.ModelSpec("wgan_gp", WGANGP, configs.WassersteinGANConfig, configs.WASSERSTEIN_PRESETS))
    registry.register(registry.ModelSpec("wgan", WGAN, configs.WassersteinGANConfig, configs.WASSERSTEIN_PRESETS))


_register()
