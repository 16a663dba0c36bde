"""Critic regularisers: gradient penalties (WGAN-GP's, R1) and weight clipping (WGAN).

Both take the critic as a callable, so conditional and multi-head critics
(``ConditionalGAN`` with labels bound by a closure, ``StarGAN``'s source head)
share this code.
"""

from __future__ import annotations

import tensorflow as tf


def interpolate(real, fake, epsilon):
    """``x_hat = epsilon * real + (1 - epsilon) * fake``, one epsilon per example.

    Args:
      real: ``[B, ...]`` real samples.
      fake: ``[B, ...]`` generated samples, same shape.
      epsilon: ``[B]`` (or broadcastable ``[B, 1, ...]``) weights in [0, 1].
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    epsilon = tf.reshape(tf.cast(epsilon, tf.float32), [-1] + [1] * (real.shape.rank - 1))
    return epsilon * real + (1.0 - epsilon) * fake


def gradient_norm(critic_fn, inputs, epsilon: float = 1e-12):
    """Per-example L2 norm of ``d sum(critic_fn(x)) / dx`` at ``inputs``.

    The critic's outputs are summed per example (a PatchGAN map counts as one
    score), and the norm is taken over all non-batch axes, with ``epsilon``
    inside the square root so the gradient of the norm is finite at 0.

    Args:
      critic_fn: callable ``[B, ...] -> [B, ...]`` (any output rank).
      inputs: float ``[B, ...]``.
      epsilon: added under the square root.

    Returns:
      float32 ``[B]``.
    """
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        total_score = tf.reduce_sum(tf.cast(critic_fn(inputs), tf.float32))
    gradients = tf.cast(tape.gradient(total_score, inputs), tf.float32)
    axes = list(range(1, gradients.shape.rank))
    return tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=axes) + epsilon)


def gradient_penalty(
    critic_fn,
    real,
    fake,
    epsilon,
    target_norm: float = 1.0,
    one_sided: bool = False,
):
    """Gradient penalty of Gulrajani et al. (2017), "Improved Training of Wasserstein GANs".

    ``E[(||grad D(x_hat)||_2 - target_norm)^2]`` on ``x_hat = eps * x + (1 - eps) * G(z)``
    with ``eps ~ U[0, 1]`` drawn per example by the caller. Call it inside the
    critic's gradient tape: the inner tape is recorded, so the penalty's
    gradient reaches the critic's weights (double backprop).

    Args:
      critic_fn: callable ``[B, ...] -> scores [B, ...]``; bind extra inputs
        (labels) with a closure.
      real: ``[B, ...]`` real samples.
      fake: ``[B, ...]`` generated samples.
      epsilon: ``[B]`` interpolation weights in [0, 1].
      target_norm: the norm the critic's gradient is pushed towards (1 in the paper).
      one_sided: penalise only norms above ``target_norm`` (``max(0, ||g|| - t)^2``),
        the variant the paper mentions in its appendix.

    Returns:
      float32 scalar >= 0 (mean over this replica's batch).
    """
    norms = gradient_norm(critic_fn, interpolate(real, fake, epsilon))
    excess = norms - target_norm
    if one_sided:
        excess = tf.nn.relu(excess)
    return tf.reduce_mean(tf.square(excess))


def r1_penalty(critic_fn, real):
    """R1 of Mescheder et al. (2018), "Which Training Methods for GANs do actually Converge?", eq. 9.

    ``1/2 E[||grad D(x)||^2]`` on real samples x: a zero-centred penalty that
    keeps D flat on the data, which their analysis shows makes the
    non-saturating GAN converge locally where it otherwise oscillates. The
    paper's gamma is the weight the caller multiplies this by. Call it inside
    the critic's gradient tape (double backprop, as `gradient_penalty`).

    Args:
      critic_fn: callable ``[B, ...] -> scores [B, ...]`` (a PacGAN critic's
        ``[B/m, ...]`` too: each sample's share of its pack's gradient counts).
      real: ``[B, ...]`` real samples.

    Returns:
      float32 scalar >= 0 (mean over this replica's batch).
    """
    return 0.5 * tf.reduce_mean(tf.square(gradient_norm(critic_fn, real)))


def clip_weights(variables, clip_value: float) -> None:
    """Clips every variable to ``[-clip_value, clip_value]`` (WGAN, Arjovsky et al. 2017).

    Works in a replica context under `tf.distribute`: the assignment happens
    once per variable through the strategy (mirrored variables stay equal).

    Args:
      variables: `keras.Variable`s or `tf.Variable`s (the critic's weights).
      clip_value: c > 0.
    """
    if clip_value <= 0:
        raise ValueError(f"clip_value must be > 0; got {clip_value}.")

    def clip_all(strategy=None):
        # In cross-replica context an assignment to a mirrored variable updates
        # every copy; in a replica context it would need an aggregation mode.
        for variable in variables:
            variable.assign(tf.clip_by_value(variable, -clip_value, clip_value))

    context = tf.distribute.get_replica_context()
    if context is None:  # already in cross-replica context
        clip_all()
    else:
        context.merge_call(clip_all)


def reject_batch_norm(critic) -> None:
    """Raises ValueError if ``critic`` (a Keras model) contains BatchNormalization.

    The gradient penalty is defined per example; batch statistics make each
    example's score depend on the others (Gulrajani et al. 2017, Sec. 4).
    """
    import keras

    for layer in critic._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            raise ValueError(
                f"The critic {critic.name!r} has BatchNormalization layer {layer.name!r}; the gradient "
                "penalty is per example and batch statistics couple examples (Gulrajani et al. 2017, Sec. 4). "
                "Use LayerNormalization or none, e.g. dcgan_discriminator(..., normalization='layer')."
            )

