"""Adversarial and reconstruction losses as pure functions of logits.

Every adversarial loss takes discriminator logits of any rank (a vector of
scores ``[B]`` or ``[B, 1]``, or a PatchGAN map ``[B, H, W, 1]``) and returns
the mean over all elements as a float32 scalar. The mean over the *local*
batch is what each replica computes; `kgan.models.AdversarialModel` divides by
the number of replicas so that summed gradients equal single-device ones.

Families (``<family>_discriminator_loss`` / ``<family>_generator_loss``):

* ``minimax`` -- Goodfellow et al. (2014), Algorithm 1: D maximises
  ``log D(x) + log(1 - D(G(z)))``; G *minimises* ``log(1 - D(G(z)))``, which
  saturates when D rejects samples confidently.
* ``non_saturating`` -- same D loss; G maximises ``log D(G(z))`` instead
  (the paper's practical recommendation).
* ``maximum_likelihood`` -- same D loss; G minimises
  ``-1/2 E[exp(sigma^-1(D(G(z))))]`` (Goodfellow 2016, "NIPS 2016 Tutorial:
  Generative Adversarial Networks", Sec. 3.2.3, eq. 16): with an optimal D
  its expected gradient is that of KL(p_data || p_model), i.e. maximum
  likelihood.
* ``least_squares`` -- Mao et al. (2017), LSGAN with targets a=0, b=1, c=1.
* ``hinge`` -- Lim & Ye (2017) / Miyato et al. (2018).
* ``wasserstein`` -- Arjovsky et al. (2017): the critic estimates
  ``E[D(x)] - E[D(G(z))]``.

One-sided label smoothing (Salimans et al. 2016) replaces the real target 1
by ``1 - label_smoothing``; fake targets stay 0.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import tensorflow as tf

from kgan import label_groups as label_groups_lib
from kgan.label_groups import LABEL_KINDS


def _mean(x) -> tf.Tensor:
    """Mean over every axis, computed in float32 whatever the input dtype."""
    return tf.reduce_mean(tf.cast(x, tf.float32))


def _check_smoothing(label_smoothing: float) -> None:
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(
            f"label_smoothing must be in [0, 1); got {label_smoothing}. "
            "Salimans et al. (2016) use 0.1 (real targets become 0.9)."
        )


def _sigmoid_cross_entropy(logits, target: float) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    return tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.fill(tf.shape(logits), target), logits=logits
    )


# --- minimax / non-saturating (Goodfellow et al. 2014) -----------------------


def minimax_discriminator_loss(real_logits, fake_logits, label_smoothing: float = 0.0):
    """``-E[log D(x)] - E[log(1 - D(G(z)))]`` with D = sigmoid(logits).

    Args:
      real_logits: D's logits on real data, any shape ``[B, ...]``.
      fake_logits: D's logits on generated data, any shape ``[B, ...]``.
      label_smoothing: one-sided smoothing; real target is ``1 - label_smoothing``.

    Returns:
      Scalar float32, >= 0.
    """
    _check_smoothing(label_smoothing)
    return _mean(_sigmoid_cross_entropy(real_logits, 1.0 - label_smoothing)) + _mean(
        _sigmoid_cross_entropy(fake_logits, 0.0)
    )


def minimax_generator_loss(fake_logits):
    """``E[log(1 - D(G(z)))] = -E[softplus(logits)]``: the original, saturating G loss.

    Args:
      fake_logits: D's logits on generated data, any shape ``[B, ...]``.

    Returns:
      Scalar float32, <= 0; minimised by G.
    """
    return -_mean(tf.nn.softplus(tf.cast(fake_logits, tf.float32)))


non_saturating_discriminator_loss = minimax_discriminator_loss


def non_saturating_generator_loss(fake_logits):
    """``-E[log D(G(z))] = E[softplus(-logits)]`` (Goodfellow et al. 2014, Sec. 3).

    Args:
      fake_logits: D's logits on generated data, any shape ``[B, ...]``.

    Returns:
      Scalar float32, >= 0.
    """
    return _mean(_sigmoid_cross_entropy(fake_logits, 1.0))


maximum_likelihood_discriminator_loss = minimax_discriminator_loss


def maximum_likelihood_generator_loss(fake_logits):
    """``-1/2 E[exp(logits)]``, since ``sigma^-1(D(G(z)))`` is D's logit (Goodfellow 2016, eq. 16).

    With D = D*, ``exp(logit) = p_data / p_model``, so G's expected gradient
    is the maximum-likelihood one. Its gradient in the logit, ``-exp(l) / 2``,
    is ~0 for samples D rejects (like the minimax loss) and grows without
    bound for those D accepts: a few samples carry most of it (the tutorial's
    Fig. 16; ``bench/generator_losses.py`` draws the three). Computed in float32
    without clipping; logits above ~88 overflow, as the formula does.

    Args:
      fake_logits: D's logits on generated data, any shape ``[B, ...]``.

    Returns:
      Scalar float32, < 0; minimised by G.
    """
    return -0.5 * _mean(tf.exp(tf.cast(fake_logits, tf.float32)))


# --- least squares (Mao et al. 2017) ------------------------------------------


def least_squares_discriminator_loss(real_logits, fake_logits, label_smoothing: float = 0.0):
    """``0.5 E[(D(x) - b)^2] + 0.5 E[D(G(z))^2]`` with raw (linear) outputs, ``b = 1 - smoothing``.

    Args:
      real_logits: D's outputs on real data, any shape ``[B, ...]``.
      fake_logits: D's outputs on generated data, any shape ``[B, ...]``.
      label_smoothing: one-sided smoothing of the real target.

    Returns:
      Scalar float32, >= 0.
    """
    _check_smoothing(label_smoothing)
    real_target = 1.0 - label_smoothing
    return 0.5 * _mean(tf.square(tf.cast(real_logits, tf.float32) - real_target)) + 0.5 * _mean(
        tf.square(tf.cast(fake_logits, tf.float32))
    )


def least_squares_generator_loss(fake_logits):
    """``0.5 E[(D(G(z)) - 1)^2]``.

    Args:
      fake_logits: D's outputs on generated data, any shape ``[B, ...]``.

    Returns:
      Scalar float32, >= 0.
    """
    return 0.5 * _mean(tf.square(tf.cast(fake_logits, tf.float32) - 1.0))


# --- hinge (Lim & Ye 2017; Miyato et al. 2018) --------------------------------


def hinge_discriminator_loss(real_logits, fake_logits, label_smoothing: float = 0.0):
    """``E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]``.

    Args:
      real_logits: D's outputs on real data, any shape ``[B, ...]``.
      fake_logits: D's outputs on generated data, any shape ``[B, ...]``.
      label_smoothing: must be 0: the hinge loss has no probabilistic target.

    Returns:
      Scalar float32, >= 0.
    """
    if label_smoothing:
        raise ValueError("label_smoothing applies to probabilistic targets; the hinge loss has none. Use 0.")
    return _mean(tf.nn.relu(1.0 - tf.cast(real_logits, tf.float32))) + _mean(
        tf.nn.relu(1.0 + tf.cast(fake_logits, tf.float32))
    )


def hinge_generator_loss(fake_logits):
    """``-E[D(G(z))]``.

    Args:
      fake_logits: D's outputs on generated data, any shape ``[B, ...]``.

    Returns:
      Scalar float32 (unbounded).
    """
    return -_mean(fake_logits)


# --- Wasserstein (Arjovsky et al. 2017) ---------------------------------------


def wasserstein_discriminator_loss(real_logits, fake_logits, label_smoothing: float = 0.0):
    """Critic loss ``E[D(G(z))] - E[D(x)]`` (the negated Wasserstein estimate).

    Args:
      real_logits: critic outputs on real data, any shape ``[B, ...]``.
      fake_logits: critic outputs on generated data, any shape ``[B, ...]``.
      label_smoothing: must be 0.

    Returns:
      Scalar float32 (unbounded).
    """
    if label_smoothing:
        raise ValueError("label_smoothing has no meaning for a Wasserstein critic. Use 0.")
    return _mean(fake_logits) - _mean(real_logits)


def wasserstein_generator_loss(fake_logits):
    """``-E[D(G(z))]``.

    Args:
      fake_logits: critic outputs on generated data, any shape ``[B, ...]``.

    Returns:
      Scalar float32 (unbounded).
    """
    return -_mean(fake_logits)


# --- reconstruction -----------------------------------------------------------


def l1_loss(x, y):
    """Mean absolute error over all elements, float32 scalar (cycle, identity, reconstruction)."""
    return _mean(tf.abs(tf.cast(x, tf.float32) - tf.cast(y, tf.float32)))


def cycle_consistency_loss(real, reconstructed):
    """CycleGAN's cycle loss ``E|F(G(x)) - x|`` for one direction (Zhu et al. 2017, eq. 2).

    Args:
      real: images ``[B, H, W, C]``.
      reconstructed: the round trip ``F(G(real))``, same shape.

    Returns:
      Mean absolute difference, float32 scalar (per pixel, so the weight
      ``lambda = 10`` means what it means in the paper).
    """
    return l1_loss(real, reconstructed)


def identity_loss(real, mapped):
    """CycleGAN's identity loss ``E|G(y) - y|`` (Zhu et al. 2017, section 5.2; Taigman et al. 2017).

    A generator fed an image of its *target* domain should leave it alone;
    this keeps colour composition in photo <-> painting tasks.

    Args:
      real: images of the generator's target domain ``[B, H, W, C]``.
      mapped: the generator's output for them.

    Returns:
      Mean absolute difference, float32 scalar.
    """
    return l1_loss(real, mapped)


def reconstruction_loss(real, reconstructed):
    """StarGAN's reconstruction loss ``E|x - G(G(x, c), c')|`` (Choi et al. 2018, eq. 4): mean absolute error."""
    return l1_loss(real, reconstructed)


# --- domain classification (StarGAN, AC-GAN style heads) ----------------------

def per_example_domain_classification_loss(labels, logits, label_kind: str = "multi_label"):
    """`domain_classification_loss` before the batch mean: float32 ``[B]`` >= 0, one value per example."""
    labels = tf.cast(labels, tf.float32)
    logits = tf.cast(logits, tf.float32)
    if label_kind == "multi_label":
        return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits), axis=-1)
    if label_kind == "single_label":
        return tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    raise ValueError(f"label_kind must be one of {LABEL_KINDS}; got {label_kind!r}.")


def domain_classification_loss(labels, logits, label_kind: str = "multi_label"):
    """Cross-entropy of domain logits against domain labels (Choi et al. 2018, eq. 2-3).

    Args:
      labels: float ``[B, K]``: multi-hot attributes (``"multi_label"``, e.g.
        CelebA's hair colour + gender + age) or one-hot domains
        (``"single_label"``).
      logits: float ``[B, K]`` domain logits.
      label_kind: ``"multi_label"``: sigmoid cross-entropy summed over the K
        attributes (each is its own yes/no question), averaged over the batch;
        ``"single_label"``: softmax cross-entropy over the K domains, averaged
        over the batch.

    Returns:
      Scalar float32 >= 0.
    """
    return tf.reduce_mean(per_example_domain_classification_loss(labels, logits, label_kind))


def group_counts(labels, label_groups):
    """Examples of ``labels`` (unified, ``[B, sum(size) + n]``) whose mask says each group is known: float32 ``[n]``."""
    offset = label_groups_lib.logit_size(label_groups)
    return tf.reduce_sum(tf.cast(labels, tf.float32)[:, offset:], axis=0)


def masked_domain_classification_loss(labels, logits, label_groups, normalizers=None):
    """The domain classification loss over several datasets' label sets (Choi et al. 2018, sec. 3.2).

    Each example's labels are the unified vector ``c~ = [c_1, ..., c_n, m]``
    (`kgan.label_groups`): only the group its one-hot mask ``m`` names is
    known, so only that group's logits are scored for it -- with the
    group's own kind (`per_example_domain_classification_loss`), averaged
    over the examples that have the group. The paper alternates datasets,
    each step scoring one group; a batch mixing them scores every group
    present, so the loss is the sum over groups of each group's mean (a
    group absent from the batch adds 0).

    Args:
      labels: float 0/1 ``[B, sum(size) + n]`` unified labels.
      logits: float ``[B, sum(size)]`` domain logits, the groups in order.
      label_groups: ``((size, kind), ...)`` (`kgan.label_groups.normalize_label_groups`).
      normalizers: float ``[n]``, what each group's sum is divided by; None:
        the examples of this batch that have the group (`group_counts`).
        Under `tf.distribute` the model passes the global batch's counts
        divided by the replicas, so the replicas' summed gradients are one
        device's.

    Returns:
      Scalar float32 >= 0.
    """
    labels = tf.cast(labels, tf.float32)
    logits = tf.cast(logits, tf.float32)
    if normalizers is None:
        normalizers = group_counts(labels, label_groups)
    offset = label_groups_lib.logit_size(label_groups)
    total = tf.constant(0.0)
    for index, ((start, stop), (_, kind)) in enumerate(zip(label_groups_lib.group_bounds(label_groups), label_groups)):
        per_example = per_example_domain_classification_loss(labels[:, start:stop], logits[:, start:stop], kind)
        known = labels[:, offset + index]
        # divide_no_nan: a group with no example in the batch contributes 0, not 0 / 0.
        total += tf.math.divide_no_nan(tf.reduce_sum(known * per_example), tf.cast(normalizers[index], tf.float32))
    return total


# --- registry -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LossFamily:
    """A matched pair of adversarial losses.

    Attributes:
      name: the family's name, e.g. ``"non_saturating"``.
      discriminator: ``fn(real_logits, fake_logits, label_smoothing) -> scalar``.
      generator: ``fn(fake_logits) -> scalar``.
      supports_label_smoothing: whether ``label_smoothing > 0`` is meaningful.
    """

    name: str
    discriminator: Callable[..., tf.Tensor]
    generator: Callable[[tf.Tensor], tf.Tensor]
    supports_label_smoothing: bool


LOSS_FAMILIES = {
    "minimax": LossFamily("minimax", minimax_discriminator_loss, minimax_generator_loss, True),
    "non_saturating": LossFamily(
        "non_saturating", non_saturating_discriminator_loss, non_saturating_generator_loss, True
    ),
    "maximum_likelihood": LossFamily(
        "maximum_likelihood", maximum_likelihood_discriminator_loss, maximum_likelihood_generator_loss, True
    ),
    "least_squares": LossFamily(
        "least_squares", least_squares_discriminator_loss, least_squares_generator_loss, True
    ),
    "hinge": LossFamily("hinge", hinge_discriminator_loss, hinge_generator_loss, False),
    "wasserstein": LossFamily(
        "wasserstein", wasserstein_discriminator_loss, wasserstein_generator_loss, False
    ),
}


def get_loss_family(name: str) -> LossFamily:
    """Returns the `LossFamily` called ``name``; raises ValueError listing the known names."""
    try:
        return LOSS_FAMILIES[name]
    except KeyError:
        raise ValueError(
            f"Unknown loss {name!r}; choose one of {sorted(LOSS_FAMILIES)}."
        ) from None
