"""Class-conditional generators and discriminators (cGAN, projection D, AC-GAN heads).

Every builder here wraps one of the unconditional builders (`kgan.networks.mlp`,
`kgan.networks.dcgan`), so the conditional networks share their architecture:

* Generators G(z, y): the label's encoding -- one-hot, or a learned embedding
  -- is concatenated to z (Mirza & Osindero 2014, "Conditional Generative
  Adversarial Nets", Sec. 3.2), and the concatenation feeds the unconditional
  generator. Inputs ``[z float32 [B, latent_dim], labels int [B]]``.
* Discriminators D(x, y), three ways to see the label (``conditioning``):

  - ``"concat"``: Mirza & Osindero: the label encoding is joined to the input
    -- concatenated to a point, or broadcast to ``H x W`` label maps that are
    stacked onto an image's channels.
  - ``"projection"``: Miyato & Koyama (2018), "cGANs with Projection
    Discriminator": ``D(x, y) = psi(phi(x)) + <embed(y), phi(x)>``, with phi the
    unconditional discriminator's features and psi its linear score.
  - ``"none"``: D does not see the label (inputs: the samples only). Only
    meaningful with an auxiliary classifier: that is AC-GAN's discriminator.

  ``auxiliary_classifier=True`` adds a class head on phi(x) (Odena et al.
  2017, "Conditional Image Synthesis with Auxiliary Classifier GANs"): the
  discriminator then returns ``[logits [B, 1], class_logits [B, K]]``.

Labels are int ``[B]`` in ``[0, num_classes)``; out-of-range labels encode to
zeros here, so `kgan.ConditionalGAN` validates them before training and the
exported signatures assert them.
"""

from __future__ import annotations

import keras
from keras import layers

from kgan.networks.dcgan import dcgan_discriminator, dcgan_generator
from kgan.networks.mlp import mlp_discriminator, mlp_generator

CONDITIONINGS = ("concat", "projection", "none")


def _check_classes(num_classes):
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2; got {num_classes!r}.")


def label_input(name: str = "labels"):
    """A functional-model input for int32 class labels ``[B]``."""
    return keras.Input(shape=(), dtype="int32", name=name)


def encode_labels(labels, num_classes: int, embedding_dim: int | None = None, name: str = "label"):
    """One-hot ``[B, num_classes]`` (``embedding_dim=None``) or a learned embedding ``[B, embedding_dim]``.

    Args:
      labels: symbolic int tensor ``[B]``.
      num_classes: K.
      embedding_dim: size of a learned embedding, or None for one-hot.
      name: prefix of the layer name.
    """
    if embedding_dim is None:
        return layers.CategoryEncoding(num_classes, output_mode="one_hot", name=f"{name}_one_hot")(labels)
    if int(embedding_dim) < 1:
        raise ValueError(f"label_embedding_dim must be >= 1 or None (one-hot); got {embedding_dim}.")
    return layers.Embedding(num_classes, int(embedding_dim), name=f"{name}_embedding")(labels)


def _label_size(num_classes, embedding_dim):
    return num_classes if embedding_dim is None else int(embedding_dim)


def _wrap_generator(core, latent_dim, num_classes, embedding_dim, name):
    z = keras.Input((latent_dim,), name="z")
    labels = label_input()
    joined = layers.Concatenate(name="z_and_label")([z, encode_labels(labels, num_classes, embedding_dim)])
    return keras.Model([z, labels], core(joined), name=name)


def conditional_mlp_generator(
    latent_dim: int = 64,
    num_classes: int = 8,
    output_dim: int = 2,
    hidden_units=(128, 128),
    label_embedding_dim: int | None = None,
    name: str = "generator",
) -> keras.Model:
    """G(z, y) for points: ``[z [B, latent_dim], labels int [B]]`` -> points ``[B, output_dim]``.

    `kgan.networks.mlp_generator` on the concatenation of z and the label's
    encoding (Mirza & Osindero 2014). Linear output (unbounded).

    Args:
      latent_dim: size of z.
      num_classes: K; labels lie in ``[0, K)``.
      output_dim: size of a point.
      hidden_units: widths of the ReLU hidden layers.
      label_embedding_dim: learned label embedding size, or None for one-hot.
      name: model name.
    """
    _check_classes(num_classes)
    core = mlp_generator(latent_dim + _label_size(num_classes, label_embedding_dim), output_dim, hidden_units, name=f"{name}_core")
    return _wrap_generator(core, latent_dim, num_classes, label_embedding_dim, name)


def conditional_dcgan_generator(
    latent_dim: int = 128,
    num_classes: int = 10,
    image_shape=(28, 28, 1),
    base_filters: int = 64,
    label_embedding_dim: int | None = None,
    name: str = "generator",
) -> keras.Model:
    """G(z, y) for images: ``[z [B, latent_dim], labels int [B]]`` -> images ``[B, H, W, C]`` in [-1, 1].

    `kgan.networks.dcgan_generator` (Radford et al. 2016) on the concatenation
    of z and the label's encoding.

    Args:
      latent_dim: size of z.
      num_classes: K.
      image_shape: ``(H, W, C)``, as for `dcgan_generator`.
      base_filters: width, as for `dcgan_generator`.
      label_embedding_dim: learned label embedding size, or None for one-hot.
      name: model name.
    """
    _check_classes(num_classes)
    core = dcgan_generator(
        latent_dim + _label_size(num_classes, label_embedding_dim), image_shape, base_filters, name=f"{name}_core"
    )
    return _wrap_generator(core, latent_dim, num_classes, label_embedding_dim, name)


def _features(core: keras.Model) -> keras.Model:
    """The unconditional discriminator ``core`` up to (without) its final ``logit`` layer: phi(x)."""
    last = core.layers[-1]
    inner = last.layer if isinstance(last, layers.SpectralNormalization) else last
    if not (isinstance(inner, layers.Dense) and inner.name == "logit"):
        raise ValueError(f"Expected a discriminator ending in a Dense layer named 'logit'; {core.name!r} ends in {last.name!r}.")
    return keras.Model(core.inputs, core.layers[-2].output, name=f"{core.name}_features")


def _conditional_discriminator(make_core, sample_shape, join_labels, num_classes, conditioning, auxiliary_classifier, label_embedding_dim, name):
    _check_classes(num_classes)
    if conditioning not in CONDITIONINGS:
        raise ValueError(f"conditioning must be one of {', '.join(CONDITIONINGS)}; got {conditioning!r}.")
    if conditioning == "none" and not auxiliary_classifier:
        raise ValueError(
            "conditioning='none' gives a discriminator that never sees the labels; add the AC-GAN class head "
            "(auxiliary_classifier=True) or choose conditioning='concat' or 'projection'."
        )
    samples = keras.Input(tuple(sample_shape), name="samples")
    labels = label_input()
    if conditioning == "concat":
        encoded = encode_labels(labels, num_classes, label_embedding_dim)
        joined = join_labels(samples, encoded)
        features = _features(make_core(tuple(joined.shape[1:])))(joined)
    else:
        features = _features(make_core(tuple(sample_shape)))(samples)
    logits = layers.Dense(1, dtype="float32", name="logit")(features)
    if conditioning == "projection":
        # <embed(y), phi(x)>: the class-dependent part of the logit (Miyato & Koyama 2018, Eq. 3).
        embedded = layers.Embedding(num_classes, features.shape[-1], name="projection_embedding")(labels)
        projection = layers.Dot(axes=1, dtype="float32", name="projection")([embedded, features])
        logits = layers.Add(dtype="float32", name="projected_logit")([logits, projection])
    outputs = logits
    if auxiliary_classifier:
        outputs = [logits, layers.Dense(num_classes, dtype="float32", name="class_logits")(features)]
    inputs = samples if conditioning == "none" else [samples, labels]
    return keras.Model(inputs, outputs, name=name)


def conditional_mlp_discriminator(
    input_dim: int = 2,
    num_classes: int = 8,
    hidden_units=(128, 128),
    conditioning: str = "concat",
    auxiliary_classifier: bool = False,
    label_embedding_dim: int | None = None,
    name: str = "discriminator",
    minibatch: str = "none",
    spectral_norm: bool = False,
) -> keras.Model:
    """D(x, y) for points: ``[points [B, input_dim], labels int [B]]`` -> logits ``[B, 1]``.

    `kgan.networks.mlp_discriminator`'s hidden layers are phi; see the module
    docstring for ``conditioning``. With ``auxiliary_classifier`` the output is
    ``[logits [B, 1], class_logits [B, num_classes]]``; with
    ``conditioning="none"`` the only input is the points.

    Args:
      input_dim: size of a point.
      num_classes: K.
      hidden_units: widths of the ReLU hidden layers.
      conditioning: ``"concat"`` (label encoding concatenated to the point),
        ``"projection"`` or ``"none"``.
      auxiliary_classifier: add the AC-GAN class head.
      label_embedding_dim: for ``"concat"``: learned embedding size, or None for one-hot.
      name: model name.
      minibatch, spectral_norm: as for `kgan.networks.mlp_discriminator` (in phi).
    """

    def make_core(shape):
        return mlp_discriminator(shape[0], hidden_units, name=f"{name}_core", minibatch=minibatch, spectral_norm=spectral_norm)

    def join(points, encoded):
        return layers.Concatenate(name="points_and_label")([points, encoded])

    return _conditional_discriminator(
        make_core, (input_dim,), join, num_classes, conditioning, auxiliary_classifier, label_embedding_dim, name
    )


def conditional_dcgan_discriminator(
    image_shape=(28, 28, 1),
    num_classes: int = 10,
    base_filters: int = 64,
    normalization: str = "batch",
    conditioning: str = "concat",
    auxiliary_classifier: bool = False,
    label_embedding_dim: int | None = None,
    name: str = "discriminator",
    minibatch: str = "none",
    spectral_norm: bool = False,
) -> keras.Model:
    """D(x, y) for images: ``[images [B, H, W, C] in [-1, 1], labels int [B]]`` -> logits ``[B, 1]``.

    `kgan.networks.dcgan_discriminator`'s convolutions are phi. With
    ``conditioning="concat"`` the label encoding (one-hot: K channels; or an
    embedding of ``label_embedding_dim`` channels) is broadcast to ``H x W``
    label maps and stacked onto the image's channels before the first
    convolution. See the module docstring for the other options and the
    AC-GAN head.

    Args:
      image_shape: ``(H, W, C)``, as for `dcgan_discriminator`.
      num_classes: K.
      base_filters: width, as for `dcgan_discriminator`.
      normalization: ``"batch"``, ``"layer"`` or ``"none"`` (WGAN-GP: not batch).
      conditioning: ``"concat"``, ``"projection"`` or ``"none"``.
      auxiliary_classifier: add the AC-GAN class head.
      label_embedding_dim: for ``"concat"``: learned embedding size, or None for one-hot.
      name: model name.
      minibatch, spectral_norm: as for `kgan.networks.dcgan_discriminator` (in phi).
    """
    height, width = image_shape[0], image_shape[1]

    def make_core(shape):
        return dcgan_discriminator(shape, base_filters, normalization, name=f"{name}_core", minibatch=minibatch, spectral_norm=spectral_norm)

    def join(images, encoded):
        maps = layers.Reshape((1, 1, encoded.shape[-1]), name="label_pixel")(encoded)
        maps = layers.UpSampling2D((height, width), name="label_maps")(maps)
        return layers.Concatenate(name="images_and_label_maps")([images, maps])

    return _conditional_discriminator(
        make_core, tuple(image_shape), join, num_classes, conditioning, auxiliary_classifier, label_embedding_dim, name
    )
