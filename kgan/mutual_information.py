"""InfoGAN's variational lower bound of the mutual information I(c; G(z, c)), as losses.

Chen et al. (2016), "InfoGAN: Interpretable Representation Learning by
Information Maximizing Generative Adversarial Nets", Lemma 5.1:

    L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)}[log Q(c | x)] + H(c)  <=  I(c; G(z, c)).

H(c) is a constant of the prior, so maximising L_I is minimising the negative
log-likelihood ``-E[log Q(c | x)]`` of the codes a sample was made from under
the recognition network Q. Every function here returns that NLL term for one
kind of code, as a float32 scalar (the mean over this replica's batch, like
`kgan.losses`); InfoGAN adds ``lambda * NLL`` to the losses of G and of Q
(Q's optimizer group is the discriminator's: `kgan.InfoGAN`).

* Categorical codes (one-hot, K values): Q outputs K logits and the NLL is
  the softmax cross-entropy; ``log K - NLL`` is the code's lower bound of the
  mutual information (``log K`` nats for a code Q recovers exactly).
* Continuous codes: Q outputs a factored Gaussian, the paper's choice ("simply
  treating Q(c_j | x) as a factored Gaussian is sufficient"): a mean per code
  and, when the variance is learned, a log standard deviation per code; a
  fixed variance is a standard deviation of 1 (the paper's code,
  ``fix_std=True``), where the NLL is the squared error plus a constant.
"""

from __future__ import annotations

import math

import tensorflow as tf

from kgan import losses

_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)


def categorical_information_loss(codes, logits):
    """``-E[log Q(c | x)]`` for one categorical code: the softmax cross-entropy of Q's logits.

    Args:
      codes: int ``[B]``, the code values the samples were generated with, in ``[0, K)``.
      logits: float ``[B, K]``, Q's logits on those samples.

    Returns:
      float32 scalar >= 0 (mean over the batch); 0 when Q is certain and right.
    """
    logits = tf.cast(logits, tf.float32)
    one_hot = tf.one_hot(tf.cast(codes, tf.int32), tf.shape(logits)[-1], dtype=tf.float32)
    return losses.domain_classification_loss(one_hot, logits, label_kind="single_label")


def gaussian_information_loss(codes, mean, log_std=None):
    """``-E[log Q(c | x)]`` for continuous codes under a factored Gaussian Q, summed over the codes.

    Per example and code, ``0.5 log(2 pi) + log sigma + (c - mu)^2 / (2 sigma^2)``;
    the sum over the C codes, averaged over the batch.

    Args:
      codes: float ``[B, C]``, the continuous codes the samples were generated with.
      mean: float ``[B, C]``, Q's means mu.
      log_std: float ``[B, C]``, Q's log standard deviations (learned
        variance), or None for sigma = 1 (fixed variance).

    Returns:
      float32 scalar (mean over the batch). With a fixed variance it is at
      least ``C * 0.5 log(2 pi)``; with a learned one it can be negative.
    """
    codes, mean = tf.cast(codes, tf.float32), tf.cast(mean, tf.float32)
    error = codes - mean
    if log_std is None:
        per_code = _HALF_LOG_TWO_PI + 0.5 * tf.square(error)
    else:
        log_std = tf.cast(log_std, tf.float32)
        per_code = _HALF_LOG_TWO_PI + log_std + 0.5 * tf.square(error) * tf.exp(-2.0 * log_std)
    return tf.reduce_mean(tf.reduce_sum(per_code, axis=-1))
