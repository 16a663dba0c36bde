"""How useful an encoder's features are, how well it reconstructs, and how close its codes are to the prior.

The protocols of the encoder models' papers:

* **linear probe**: a multinomial logistic regression fitted on the encoded
  training split, its accuracy on the encoded test split (Donahue et al.
  2017, "Adversarial Feature Learning", Sec. 4: features judged by the
  classifiers they support). Fitted to convergence by L-BFGS on standardised
  features with a small L2 penalty, so the number has no learning rate or
  epoch count behind it.
* **1-nearest-neighbour accuracy**: each test example takes the label of its
  nearest training example in feature space (Euclidean); BiGAN's Table 1 on
  permutation-invariant MNIST (97.39 % for E(x), against the paper's
  autoencoder and latent-regressor baselines).
* **reconstruction**: pixel errors of G(E(x)) against x, and how often a
  classifier gives G(E(x)) the class of x ("class kept").
* **codes against the prior**: the kernel distance (`kgan.metrics.kernel_distance`)
  between encoded test examples and prior samples, beside the same distance
  between two independent prior samples of the same size (the floor a
  perfect encoder reaches; Makhzani et al. 2016 want q(z) = p(z)).

Every function takes numpy arrays (features ``[N, D]``, int labels ``[N]``)
and returns plain floats or dicts of them, ready for ``summary.json``.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

from kgan.metrics.kernel_distance import kernel_distance

__all__ = ["linear_probe_accuracy", "nearest_neighbour_accuracy", "prior_distance", "reconstruction_scores"]


def _checked(features, labels, what):
    features = np.asarray(features, np.float64).reshape(len(features), -1)
    labels = np.asarray(labels)
    if features.ndim != 2 or labels.shape != (len(features),):
        raise ValueError(f"{what}: features [N, D] and labels [N] must agree; got {features.shape} and {labels.shape}.")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"{what}: features contain NaN or Inf values.")
    if not np.issubdtype(labels.dtype, np.integer) or (labels < 0).any():
        raise ValueError(f"{what}: labels must be integer class indices >= 0.")
    return features, labels.astype(np.int64)


def _pair(train_features, train_labels, test_features, test_labels):
    train_x, train_y = _checked(train_features, train_labels, "training split")
    test_x, test_y = _checked(test_features, test_labels, "test split")
    if train_x.shape[1] != test_x.shape[1]:
        raise ValueError(f"training and test features must have the same width; got {train_x.shape[1]} and {test_x.shape[1]}.")
    return train_x, train_y, test_x, test_y


def linear_probe_accuracy(train_features, train_labels, test_features, test_labels, l2: float = 1e-4,
                          max_iterations: int = 500) -> float:
    """Test accuracy of a multinomial logistic regression fitted on the training features.

    Features (flattened, so raw images work too) are standardised with the
    training split's mean and standard deviation; the weights minimise the
    mean cross-entropy plus ``l2 / 2 * ||W||^2`` (biases unpenalised) by
    L-BFGS (`scipy.optimize.minimize`) from zero, a convex problem with one
    answer.

    Args:
      train_features, test_features: ``[N, ...]`` floats (flattened to ``[N, D]``).
      train_labels, test_labels: int ``[N]``, classes ``0 .. K-1``.
      l2: the penalty's weight (> 0 keeps separable data from diverging).
      max_iterations: L-BFGS iterations at most.

    Returns:
      accuracy in [0, 1].
    """
    train_x, train_y, test_x, test_y = _pair(train_features, train_labels, test_features, test_labels)
    mean, std = train_x.mean(0), train_x.std(0)
    std[std < 1e-8] = 1.0  # Constant features (image borders) stay at 0 instead of dividing by 0.
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    n, d = train_x.shape
    targets = np.eye(num_classes)[train_y]

    def loss_and_gradient(theta):
        weights, bias = theta[: d * num_classes].reshape(d, num_classes), theta[d * num_classes :]
        logits = train_x @ weights + bias
        logits -= logits.max(1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        residual = (np.exp(log_p) - targets) / n
        loss = -(targets * log_p).sum() / n + 0.5 * l2 * (weights**2).sum()
        return loss, np.concatenate([(train_x.T @ residual + l2 * weights).ravel(), residual.sum(0)])

    result = scipy.optimize.minimize(loss_and_gradient, np.zeros(d * num_classes + num_classes), jac=True,
                                     method="L-BFGS-B", options={"maxiter": int(max_iterations)})
    weights, bias = result.x[: d * num_classes].reshape(d, num_classes), result.x[d * num_classes :]
    return float(np.mean(np.argmax(test_x @ weights + bias, axis=1) == test_y))


def nearest_neighbour_accuracy(train_features, train_labels, test_features, test_labels, batch_size: int = 1000) -> float:
    """Share of test examples whose nearest training example (Euclidean, in feature space) has their label.

    Args:
      train_features, test_features: ``[N, ...]`` floats (flattened to ``[N, D]``).
      train_labels, test_labels: int ``[N]``.
      batch_size: test examples compared at once (memory: ``batch_size x N_train`` distances).

    Returns:
      accuracy in [0, 1].
    """
    train_x, train_y, test_x, test_y = _pair(train_features, train_labels, test_features, test_labels)
    train_x, test_x = train_x.astype(np.float32), test_x.astype(np.float32)
    train_norms = (train_x**2).sum(1)
    hits = 0
    for start in range(0, len(test_x), batch_size):
        chunk = test_x[start : start + batch_size]
        # ||a - b||^2 = ||a||^2 - 2 a.b + ||b||^2; ||a||^2 is the same for every b, so it is left out.
        nearest = np.argmin(train_norms[None, :] - 2.0 * chunk @ train_x.T, axis=1)
        hits += int((train_y[nearest] == test_y[start : start + batch_size]).sum())
    return hits / len(test_x)


def reconstruction_scores(images, reconstructions, labels=None, classify=None) -> dict:
    """Pixel errors of reconstructions and, with a classifier, how often they keep the class.

    Args:
      images, reconstructions: the same shape, in the models' [-1, 1] range.
      labels: int ``[N]`` true classes, or None.
      classify: ``images -> int classes [N]`` (e.g. with
        `kgan.metrics.classifier.predict_classes`), or None.

    Returns:
      ``{"l1", "mse"}`` (means over every pixel, in [-1, 1] units) and, given
      both ``labels`` and ``classify``, ``"class_kept"`` (the classifier's
      class of the reconstruction is the true one) beside ``"class_of_input"``
      (its accuracy on the inputs themselves: the ceiling).
    """
    images, reconstructions = np.asarray(images, np.float64), np.asarray(reconstructions, np.float64)
    if images.shape != reconstructions.shape:
        raise ValueError(f"images and reconstructions must have the same shape; got {images.shape} and {reconstructions.shape}.")
    scores = {"l1": float(np.abs(images - reconstructions).mean()), "mse": float(((images - reconstructions) ** 2).mean())}
    if labels is not None and classify is not None:
        labels = np.asarray(labels)
        scores["class_kept"] = float(np.mean(np.asarray(classify(reconstructions.astype(np.float32))) == labels))
        scores["class_of_input"] = float(np.mean(np.asarray(classify(images.astype(np.float32))) == labels))
    return scores


def prior_distance(codes, sample_prior, num_subsets: int = 20, subset_size: int = 1000, seed: int = 0) -> dict:
    """KID between encoded examples and prior samples, beside two prior samples' (the floor).

    Args:
      codes: ``[N, D]`` encoded test examples.
      sample_prior: ``(count, seed) -> [count, D]`` draws from the prior.
      num_subsets, subset_size, seed: as for `kgan.metrics.kernel_distance`.

    Returns:
      ``{"kid", "kid_std", "floor", "floor_std", "num_codes"}``: the codes'
      distance to the prior and that of an independent prior sample of the
      same size (a perfect encoder's expected value, ~0).
    """
    codes = np.asarray(codes, np.float64)
    if codes.ndim != 2 or not np.all(np.isfinite(codes)):
        raise ValueError(f"codes must be finite [N, D]; got shape {codes.shape}.")
    prior = np.asarray(sample_prior(len(codes), seed), np.float64)
    other = np.asarray(sample_prior(len(codes), seed + 1), np.float64)
    if prior.shape != codes.shape:
        raise ValueError(f"sample_prior gave {prior.shape}; the codes are {codes.shape}.")
    distance = kernel_distance(prior, codes, num_subsets, subset_size, seed)
    floor = kernel_distance(prior, other, num_subsets, subset_size, seed)
    return {"kid": distance.mean, "kid_std": distance.std, "floor": floor.mean, "floor_std": floor.std, "num_codes": len(codes)}
