"""How well an InfoGAN's categorical code matches the classes it was never shown.

Two views, both scored by `kgan.metrics.clustering_scores` (accuracy under
the best one-to-one assignment, NMI, ARI):

* **Q's clusters of real data** (`labelled_clustering`, `test_split_clustering`):
  the argmax of Q's logits for one categorical code is each real example's
  cluster, scored against its class -- the protocol of the InfoGAN and
  ClusterGAN evaluations (Chen et al. 2016, Sec. 7.1: 5 % error on MNIST;
  Mukherjee et al. 2019, table 2).
* **The code's samples on a 2-D mixture** (`mixture_code_scores`): samples
  made with each value of the code are assigned to their nearest mode; the
  *purity* is the mean over code values of the share of the value's samples
  in its most frequent mode, and the one-to-one *accuracy* also requires
  different values to pick different modes (8 values all drawing one mode
  have purity 1 and accuracy 1/8).
* **The code's samples on images** (`code_sample_scores`): the same scores,
  with each sample's class predicted by a classifier of the data's classes
  (kgan's Fashion-MNIST classifier): does fixing the code to k make one
  kind of garment, and a different one for each k?
"""

from __future__ import annotations

import numpy as np

from kgan.metrics.clustering import clustering_scores


def labelled_clustering(model, samples, labels, code: int = 0) -> dict:
    """Q's clusters (categorical code ``code``) of ``samples`` against their ``labels``.

    Args:
      model: a `kgan.InfoGAN` with at least ``code + 1`` categorical codes.
      samples: ``[N, ...]`` real images in [-1, 1] or points.
      labels: int ``[N]`` classes (a mixture's mode index).
      code: which categorical code.

    Returns:
      ``{"accuracy", "nmi", "ari", "assignment" (cluster -> class), "code", "num_examples"}``.
    """
    clusters = model.predict_codes(samples)[0][:, code]
    return {**clustering_scores(np.asarray(labels), clusters).as_dict(), "code": int(code), "num_examples": int(len(clusters))}


def test_split_clustering(model, dataset: str, split: str = "test", limit: int | None = None, data_options=None, code: int = 0) -> dict:
    """`labelled_clustering` of every image of a labelled split (or its first ``limit``), read as training read them.

    Args:
      model: a `kgan.InfoGAN`.
      dataset: a `kgan.data.load_images` name with labels.
      split: the split to cluster.
      limit: at most this many images; None: the whole split.
      data_options: `kgan.configs.TrainingConfig.data_options` (size, channels, crop, ...).
      code: which categorical code.

    Returns:
      `labelled_clustering`'s dict plus ``"dataset"`` and ``"split"``.
    """
    from kgan import data

    images, labels = data.load_labelled_arrays(dataset, split, limit=limit, **(data_options or {}))
    scores = labelled_clustering(model, images, labels, code)
    return {**scores, "dataset": dataset, "split": split}


def _samples_per_code_value(model, samples_per_value: int, seed: int, code: int):
    """``samples_per_value`` samples for each value of categorical code ``code``: ``(samples, values)``.

    z and the other codes are `kgan.InfoGAN.sampling_inputs`'s, so the values
    differ only in the code.
    """
    values = model.codes.categorical[code]
    count = values * int(samples_per_value)
    _, categorical, continuous = (np.array(x) for x in model.sampling_inputs(count, seed))  # Writable copies; z: generate draws it alike.
    chosen = np.repeat(np.arange(values), samples_per_value).astype(np.int32)
    categorical[:, code] = chosen
    return np.asarray(model.generate(categorical=categorical, continuous=continuous, seed=seed)), chosen


def _code_value_scores(labels, chosen, samples_per_value: int) -> dict:
    """Clustering scores of code values (clusters) against the samples' ``labels``, plus purity and labels picked."""
    scores = clustering_scores(labels, chosen)
    counts = scores.contingency  # A row per code value (each has samples), a column per label seen.
    return {
        **scores.as_dict(),
        "purity": float(np.mean(counts.max(axis=1) / samples_per_value)),
        "modes_hit": int(len(set(counts.argmax(axis=1)))),
        "samples_per_value": int(samples_per_value),
        "majority": [int(c) for c in counts.argmax(axis=1)],
    }


def mixture_code_scores(model, mixture, samples_per_value: int = 500, seed: int = 0, code: int = 0) -> dict:
    """Does each value of a categorical code pick out one mode of a 2-D mixture? And does Q find the modes?

    For each value k of code ``code``, ``samples_per_value`` samples with the
    code fixed to k and z and the other codes as `kgan.InfoGAN.sampling_inputs`
    draws them; each sample's mode is its nearest centre.

    Args:
      model: a points `kgan.InfoGAN`.
      mixture: a `kgan.data.mixtures.GaussianMixture`.
      samples_per_value: samples per code value.
      seed: sampling seed (the real points for Q: ``seed + 1``).
      code: which categorical code.

    Returns:
      ``{"purity", "accuracy", "nmi", "ari", "assignment"}`` of code values
      -> modes, ``"majority"`` (each value's most frequent mode),
      ``"within_3_sigma"`` (share of samples within 3 std of their nearest
      mode), ``"modes_hit"`` (distinct modes among the values' most frequent ones), and ``"q"``:
      `labelled_clustering` of as many real points labelled by their mode.
    """
    points, chosen = _samples_per_code_value(model, samples_per_value, seed, code)
    distances = np.linalg.norm(points[:, None, :] - mixture.centers[None], axis=-1)
    scores = _code_value_scores(distances.argmin(axis=1), chosen, samples_per_value)
    rng = np.random.default_rng(seed + 1)
    modes = rng.integers(0, mixture.num_modes, len(chosen))
    real = (mixture.centers[modes] + rng.normal(0.0, mixture.std, (len(chosen), 2))).astype(np.float32)
    return {
        **scores, "within_3_sigma": float((distances.min(axis=1) <= 3 * mixture.std).mean()),
        "q": labelled_clustering(model, real, modes, code),
    }


def code_sample_scores(model, classifier, samples_per_value: int = 1000, seed: int = 0, code: int = 0,
                       class_names=None) -> dict:
    """The conditional-sample view: samples per code value, classified.

    For each value k of code ``code``, ``samples_per_value`` images with the
    code fixed to k (z and the other codes as `kgan.InfoGAN.sampling_inputs`
    draws them), each given the class ``classifier`` predicts. A code that
    found the classes makes one class per value, a different one per value.

    Args:
      model: an image `kgan.InfoGAN` whose samples the classifier takes
        (``[N, H, W, C]`` in [-1, 1]).
      classifier: a `keras.Model` images -> class logits ``[N, K]``
        (`kgan.metrics.load_classifier`).
      samples_per_value: samples per code value.
      seed: sampling seed.
      code: which categorical code.
      class_names: optional names of the classifier's classes, for ``"majority_names"``.

    Returns:
      ``{"purity", "accuracy", "nmi", "ari", "assignment"}`` of code values
      -> predicted classes, ``"majority"`` (each value's most frequent class),
      ``"modes_hit"`` (distinct classes among them), ``"samples_per_value"``
      and ``"code"``.
    """
    from kgan.metrics.classifier import predict_classes

    images, chosen = _samples_per_code_value(model, samples_per_value, seed, code)
    predicted = predict_classes(classifier, images)
    scores = {**_code_value_scores(predicted, chosen, samples_per_value), "code": int(code)}
    if class_names is not None:
        scores["majority_names"] = [str(class_names[c]) for c in scores["majority"]]
    return scores


def format_clustering(scores: dict) -> str:
    """One line of `labelled_clustering` / `test_split_clustering` scores."""
    where = f"{scores['num_examples']} {scores.get('split', '')} examples".replace("  ", " ")
    return (f"Q's categorical code {scores['code']} as clusters of {where}: accuracy {scores['accuracy']:.3f}, "
            f"NMI {scores['nmi']:.3f}, ARI {scores['ari']:.3f}")


def format_mixture_scores(scores: dict) -> str:
    """Two lines of `mixture_code_scores`."""
    return (f"code value -> mode: purity {scores['purity']:.3f}, one-to-one accuracy {scores['accuracy']:.3f}, NMI "
            f"{scores['nmi']:.3f} ({scores['modes_hit']} modes picked, {100 * scores['within_3_sigma']:.1f} % of samples "
            f"within 3 sigma)\n" + format_clustering(scores["q"]))


def format_code_sample_scores(scores: dict) -> str:
    """One line of `code_sample_scores`."""
    return (f"samples per value of code {scores['code']}, classified: purity {scores['purity']:.3f}, one-to-one accuracy "
            f"{scores['accuracy']:.3f}, NMI {scores['nmi']:.3f}, ARI {scores['ari']:.3f} "
            f"({scores['modes_hit']} classes picked by {len(scores['majority'])} values)")
