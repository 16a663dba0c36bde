"""pix2pix's U-Net generator (Isola et al. 2017, section 2.2 and appendix 6.1.1).

An encoder-decoder whose decoder layer i also sees the encoder layer mirrored
to it: ``C64-C128-C256-C512-C512-C512-C512-C512`` down (4x4 convolutions,
stride 2, LeakyReLU(0.2), batch norm except on the first layer), then up with
4x4 stride-2 transposed convolutions, ReLU, dropout 0.5 on the first three
decoder layers, each output concatenated with the mirrored encoder layer's
(the skip connections that carry low-level structure such as edge locations
straight across), and a last transposed convolution to the output channels
with tanh. At 256 px the eight halvings reach a 1x1 bottleneck.

Depth rule (`default_depth`): halve while both sides are even, at most 8
times (the paper's depth at 256 px). Every halving is then exact, so each
decoder layer's output has exactly its mirrored encoder layer's size:
256 -> 8 halvings (1x1), 64 -> 6 (1x1), 32 -> 5 (1x1), 28 -> 2 (28 -> 14 -> 7,
stopping at the odd 7).
"""

from __future__ import annotations

import keras
from keras import layers

from kgan.networks.patch_discriminator import NORMALIZATIONS, normalization_layer

MAX_DEPTH = 8  # The paper's encoder at 256 px.
DROPOUT_LAYERS = 3  # Decoder layers with dropout, counted from the bottleneck (the paper's CD512 x 3).


def _halvings(side: int) -> int:
    count = 0
    while side % 2 == 0 and side > 1:
        side //= 2
        count += 1
    return count


def default_depth(image_shape) -> int:
    """Stride-2 encoder layers of `unet_generator` for ``(H, W, C)``: halve while both sides are even, at most 8."""
    return min(MAX_DEPTH, _halvings(int(image_shape[0])), _halvings(int(image_shape[1])))


def _check(image_shape, depth: int, dropout: float, normalization: str) -> None:
    if len(image_shape) != 3:
        raise ValueError(f"image_shape must be (H, W, C); got {tuple(image_shape)}.")
    possible = min(_halvings(int(image_shape[0])), _halvings(int(image_shape[1])))
    if possible < 1:
        raise ValueError(
            f"A U-Net halves its input at least once; {image_shape[0]}x{image_shape[1]} has an odd side: "
            "resize the images to an even size (--image_size)."
        )
    if not 1 <= depth <= possible:
        raise ValueError(
            f"depth must be in [1, {possible}] for {image_shape[0]}x{image_shape[1]} images (each halving must be exact "
            f"so the skip connections line up); got {depth}."
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1) (the paper's 0.5; 0 turns it off); got {dropout}.")
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}; got {normalization!r}.")


def unet_generator(
    image_shape=(256, 256, 3),
    output_channels: int | None = None,
    base_filters: int = 64,
    max_filters: int = 512,
    depth: int | None = None,
    dropout: float = 0.5,
    normalization: str = "batch",
    seed: int | None = None,
    name: str = "generator",
) -> keras.Model:
    """The U-Net: images ``[B, H, W, C]`` in [-1, 1] -> images ``[B, H, W, output_channels]`` in [-1, 1].

    Encoder layer i (i = 0 .. depth-1) is a 4x4 stride-2 convolution with
    ``min(base_filters * 2**i, max_filters)`` filters, normalised except the
    first and the last (the bottleneck: at 1x1 instance norm would zero it,
    and the reference implementation leaves it out for batch norm too), then
    LeakyReLU(0.2). Decoder layer j mirrors encoder layer ``depth - 2 - j``:
    a 4x4 stride-2 transposed convolution with that layer's filters,
    normalisation, dropout (the first `DROPOUT_LAYERS` decoder layers only),
    ReLU, then concatenation with that encoder layer's output. A last 4x4
    stride-2 transposed convolution maps to ``output_channels``, tanh, float32
    even under mixed precision.

    Dropout is the paper's only noise (G takes no z). It is active when the
    network is called with ``training=True`` and off otherwise, so
    `kgan.Pix2Pix.translate` and the exports are deterministic.

    Args:
      image_shape: ``(H, W, C)`` of the input images; both sides even.
      output_channels: channels of the output; None: C.
      base_filters: filters of the first encoder layer (64 in the paper).
      max_filters: cap of the doubling filters (512 in the paper).
      depth: stride-2 encoder layers; None: `default_depth` (8 at 256 px).
      dropout: rate of the first three decoder layers' dropout (0.5); 0
        builds no dropout layer.
      normalization: ``"batch"`` (the paper's), ``"instance"`` or ``"none"``.
      seed: seeds the dropout masks (Keras seed generators); None: unseeded.
      name: model name.
    """
    depth = default_depth(image_shape) if depth is None else int(depth)
    _check(image_shape, depth, dropout, normalization)
    output_channels = int(image_shape[-1] if output_channels is None else output_channels)
    images = keras.Input(tuple(image_shape), name="images")
    filters = [min(base_filters * 2**i, max_filters) for i in range(depth)]
    x, skips = images, []
    for i, f in enumerate(filters):
        normalized = 0 < i < depth - 1 and normalization != "none"
        x = layers.Conv2D(f, 4, strides=2, padding="same", use_bias=not normalized, name=f"down{i}")(x)
        if normalized:
            x = normalization_layer(normalization, f"down{i}_norm")(x)
        x = layers.LeakyReLU(0.2, name=f"down{i}_act")(x)
        skips.append(x)
    # Up from the bottleneck; decoder layer j lands on encoder layer depth-2-j's size and is joined to it.
    for j, i in enumerate(range(depth - 2, -1, -1)):
        normalized = normalization != "none"
        x = layers.Conv2DTranspose(filters[i], 4, strides=2, padding="same", use_bias=not normalized, name=f"up{j}")(x)
        if normalized:
            x = normalization_layer(normalization, f"up{j}_norm")(x)
        if dropout and j < DROPOUT_LAYERS:
            x = layers.Dropout(dropout, seed=None if seed is None else seed + j, name=f"up{j}_dropout")(x)
        x = layers.ReLU(name=f"up{j}_act")(x)
        x = layers.Concatenate(name=f"skip{i}")([x, skips[i]])
    x = layers.Conv2DTranspose(output_channels, 4, strides=2, padding="same", name="to_images")(x)
    outputs = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(images, outputs, name=name)
