"""The end of a ``train/bigan.py`` or ``train/aae.py`` run: what the encoder learned (`kgan.metrics.representation`).

Beside `train_lib.evaluate_samples` (FID/KID of G's samples; points: mode
coverage), ``evaluation.representation`` holds:

* images with labels: the linear-probe and 1-nearest-neighbour accuracies of
  E(x) (training split -> test split), each beside the same numbers for the
  raw pixels and for a randomly initialised encoder of the same architecture
  (what the architecture alone gives); the reconstruction errors of G(E(x))
  on the test split and, for Fashion-MNIST-like data, how often kgan's
  classifier gives G(E(x)) the class of x; the kernel distance between
  the encoded test images and prior samples (the model's ``prior_samples``)
  beside the prior-vs-prior floor; and, for a model that clusters
  (``num_clusters``, the adversarial autoencoder's Sec. 6 variant), its
  clusters of the test images against their classes
  (`kgan.metrics.clustering_scores`). For the supervised adversarial
  autoencoder (``num_classes``, Sec. 5) reconstructions are decoded with x's
  own label, and ``"style"`` scores each test image's z decoded with every
  class: how often the classifier sees the class asked for
  (``class_control``; ``_other`` for the classes other than x's), with a
  picture (``samples/styles.png``: each row a test image, then its style in
  every class, the paper's Fig. 7).
  A picture of test images beside their reconstructions goes to
  ``samples/reconstructions.png`` and, for a 2-D code, one of the encoded
  test images (a colour per class) over prior samples to ``samples/codes.png``;
* point mixtures: the mean distance of G(E(x)) to x, how often it stays on
  x's mode, and the codes against the prior, on mixture samples (supervised:
  the label is x's mode, and ``style`` asks for every mode).
"""

from __future__ import annotations

import os

import keras
import numpy as np

import kgan
from kgan import metrics, rendering
from kgan.metrics import representation
from train import train_lib

# Data whose classes are kgan's Fashion-MNIST classifier's, so its predictions on reconstructions mean the data's classes.
FASHION_MNIST_SOURCES = ("fashion_mnist", "embedded_fashion_mnist")
_MIXTURE_EXAMPLES = 2000
_PICTURE_PAIRS = 32
_STYLE_IMAGES = 2000  # Test images whose z is decoded with every class (x K decodes).
_STYLE_ROWS = 10


def _random_encoder_codes(config, model, shape):
    """``images -> codes`` of an untrained encoder built as the run's was: its z (BiGAN: the mean half, if gaussian)."""
    keras.utils.set_random_seed(config.seed + 1)
    untrained = type(model)(**config.build_networks(shape), **config.model_options(shape))  # What ModelSpec.build makes.
    return untrained.encode


def _reconstruct(model, samples, labels):
    """G(E(x)) / Dec(E(x)): with x's own labels for a supervised model (it decodes with them), else without."""
    if getattr(model, "num_classes", 0):
        return model.reconstruct(samples, labels)
    return model.reconstruct(samples)


def style_scores(model, samples, labels, classify) -> dict:
    """A supervised model's z of each sample decoded with every class, scored by ``classify``.

    Args:
      model: with ``num_classes`` K and ``reconstruct(samples, labels)``.
      samples, labels: N examples and their int classes ``[N]``.
      classify: ``samples -> int classes [N]`` (kgan's classifier; a mixture's nearest mode).

    Returns:
      ``{"class_control"``: the fraction of the N x K decodes classified as
      the class asked for; ``"class_control_other"``: the same over the
      classes other than x's own; ``"num_examples"``: N}``.
    """
    hits = np.zeros([len(labels), model.num_classes], bool)
    for k in range(model.num_classes):
        asked = np.full(len(labels), k, np.int32)
        hits[:, k] = np.asarray(classify(model.reconstruct(samples, asked))) == k
    other = np.arange(model.num_classes)[None, :] != np.asarray(labels)[:, None]
    return {"class_control": float(hits.mean()), "class_control_other": float(hits[other].mean()), "num_examples": len(labels)}


def _style_picture(model, images, path):
    """Rows: a test image, then its z decoded with class 0, 1, ..., K-1 (Fig. 7)."""
    rows = [np.concatenate([images[i : i + 1], model.reconstruct(np.repeat(images[i : i + 1], model.num_classes, 0),
                                                                 np.arange(model.num_classes, dtype=np.int32))])
            for i in range(min(_STYLE_ROWS, len(images)))]
    return rendering.write_png(rendering.image_grid(np.concatenate(rows), rows=len(rows)), path)


def _mixture_evaluation(config, model):
    mixture = kgan.data.gaussian_mixture(config.dataset)
    points = mixture.sample(config.representation_test_images or _MIXTURE_EXAMPLES, seed=config.seed + 1)
    modes = mixture.nearest_modes(points)
    reconstructed = _reconstruct(model, points, modes)
    numbers = {
        "mean_distance": float(np.linalg.norm(reconstructed - points, axis=1).mean()),
        "mode_kept": float(np.mean(mixture.nearest_modes(reconstructed) == modes)),
        "prior": representation.prior_distance(model.encode(points), model.prior_samples, seed=config.seed),
        "num_examples": len(points),
    }
    text = (f"kgan: G(E(x)) on {len(points)} {config.dataset} points: mean distance to x {numbers['mean_distance']:.3f}, "
            f"on x's mode {numbers['mode_kept']:.3f}; codes vs the prior: KID {numbers['prior']['kid']:.4f} "
            f"(prior vs prior {numbers['prior']['floor']:.4f}).")
    if getattr(model, "num_classes", 0):
        numbers["style"] = style_scores(model, points, modes, mixture.nearest_modes)
        text += f" Each point's z decoded with every mode lands on the mode asked for {numbers['style']['class_control']:.3f}."
    return numbers, text


def _classify(config, shape):
    """``images -> classes`` with kgan's Fashion-MNIST classifier, or None where its classes are not the data's."""
    if config.dataset not in FASHION_MNIST_SOURCES or tuple(shape) != (28, 28, 1):
        return None
    from kgan.metrics import classifier

    network = classifier.load_classifier(train_lib.classifier_at_hand(config))
    return lambda images: classifier.predict_classes(network, images)


def representation_evaluation(config, model, picture_path=None):
    """``(numbers, text)``: the encoder's features, reconstructions and codes (see the module docstring)."""
    if config.is_points:
        return _mixture_evaluation(config, model)
    info = kgan.data.dataset_info(config.dataset, **config.data_options())
    if not info.has_labels or "train" not in info.splits:
        return {"skipped": f"{config.dataset} has no labelled training split"}, "kgan: no representation evaluation (no labels)."
    test_split = "test" if "test" in info.splits else "train"
    train_x, train_y = kgan.data.load_labelled_arrays(config.dataset, "train", limit=config.representation_train_images,
                                                      **config.data_options())
    test_x, test_y = kgan.data.load_labelled_arrays(config.dataset, test_split, limit=config.representation_test_images,
                                                    **config.data_options())
    random_codes = _random_encoder_codes(config, model, tuple(info.image_shape))
    views = {
        "encoder": (model.encode(train_x), model.encode(test_x)),
        "pixels": (train_x, test_x),
        "random_encoder": (random_codes(train_x), random_codes(test_x)),
    }
    numbers = {"num_train": len(train_y), "num_test": len(test_y), "test_split": test_split}
    for name, (train_features, test_features) in views.items():
        numbers[name] = {
            "linear_probe": representation.linear_probe_accuracy(train_features, train_y, test_features, test_y),
            "nearest_neighbour": representation.nearest_neighbour_accuracy(train_features, train_y, test_features, test_y),
            "width": int(np.prod(train_features.shape[1:])),
        }
    reconstructions = _reconstruct(model, test_x, test_y)
    classify = _classify(config, info.image_shape)
    numbers["reconstruction"] = representation.reconstruction_scores(test_x, reconstructions, test_y, classify)
    numbers["prior"] = representation.prior_distance(views["encoder"][1], model.prior_samples, seed=config.seed)
    lines = [f"kgan: what E(x) gives on {len(test_y)} {config.dataset} {test_split} images ({len(train_y)} training images):",
             "  features          width  linear probe  1-NN"]
    for name in views:
        row = numbers[name]
        lines.append(f"  {name:<16} {row['width']:>6}  {row['linear_probe']:>12.3f}  {row['nearest_neighbour']:.3f}")
    rec = numbers["reconstruction"]
    kept = f", class kept {rec['class_kept']:.3f} (the classifier on x itself: {rec['class_of_input']:.3f})" if "class_kept" in rec else ""
    lines.append(f"  reconstructions: L1 {rec['l1']:.3f}, MSE {rec['mse']:.3f}{kept}")
    lines.append(f"  E(x) vs the prior: KID {numbers['prior']['kid']:.4f} (prior vs prior {numbers['prior']['floor']:.4f})")
    if getattr(model, "num_clusters", 0):
        numbers["clustering"] = metrics.clustering_scores(test_y, model.predict_clusters(test_x)).as_dict()
        found = numbers["clustering"]
        lines.append(f"  {model.num_clusters} clusters vs the classes: accuracy {found['accuracy']:.3f} (best one-to-one "
                     f"assignment), NMI {found['nmi']:.3f}, ARI {found['ari']:.3f}")
    if getattr(model, "num_classes", 0):
        lines.append("  (supervised: z is meant to hold the style alone, so its probes falling short of the pixels' is the aim)")
        if classify is not None:
            numbers["style"] = style_scores(model, test_x[:_STYLE_IMAGES], test_y[:_STYLE_IMAGES], classify)
            lines.append(f"  z of {numbers['style']['num_examples']} test images decoded with each class: the classifier sees the "
                         f"class asked for {numbers['style']['class_control']:.3f} (classes other than x's: "
                         f"{numbers['style']['class_control_other']:.3f})")
        if picture_path is not None:
            styles = os.path.join(os.path.dirname(picture_path), "styles.png")
            numbers["styles_picture"] = _style_picture(model, test_x, styles)
            lines.append(f"  test images (first column) and their z decoded with each class: {styles}")
    if picture_path is not None:
        pairs = min(_PICTURE_PAIRS, len(test_x))
        interleaved = np.stack([test_x[:pairs], reconstructions[:pairs]], axis=1).reshape(-1, *test_x.shape[1:])
        numbers["picture"] = rendering.write_png(rendering.image_grid(interleaved, rows=max(1, pairs // 8)), picture_path)
        lines.append(f"  test images (odd columns) and their reconstructions (even columns): {picture_path}")
        if model.latent_dim == 2:  # The paper's Fig. 2: q(z) of the test images, by class, over the prior.
            codes, prior = views["encoder"][1], model.prior_samples(len(test_y), seed=config.seed)
            extent = 1.1 * float(max(np.quantile(np.abs(prior), 0.999), np.quantile(np.abs(codes), 0.99)))
            scatter = os.path.join(os.path.dirname(picture_path), "codes.png")
            numbers["codes_picture"] = rendering.write_png(
                rendering.point_plot(codes, extent, 512, labels=test_y, background=prior), scatter)
            lines.append(f"  E(x) of the test images, one colour per class, over prior samples (grey): {scatter}")
    return numbers, "\n".join(lines)


def evaluate(config, model):
    """`train_lib.evaluate_samples` plus ``"representation"`` (`representation_evaluation`)."""
    numbers, table = train_lib.evaluate_samples(config, model)
    picture = os.path.join(config.model_dir, train_lib.SAMPLES, "reconstructions.png")
    found, text = representation_evaluation(config, model, picture)
    return {**numbers, "representation": found}, f"{table}\n{text}"
