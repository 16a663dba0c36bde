"""Building blocks of the serving signatures every kgan model exports.

A signature is a `tf.function` with an explicit ``input_signature`` of named
`tf.TensorSpec`s (the names become TF Serving's input aliases) that returns a
dict of named tensors (the output aliases). The models' ``serving_endpoints()``
assemble theirs from the pieces here, so every model checks its inputs and
formats its outputs the same way:

* **Inputs are checked inside the graph.** A served request never passes
  through Python: TF Serving feeds the tensors straight into the graph, where
  a wrong shape would otherwise surface as an obscure kernel error (e.g. a
  convolution's "input depth must be evenly divisible by filter depth") and an
  out-of-range value as garbage images. The checks fail the request with an
  InvalidArgument error that names the input and what was expected.
  For the checks to survive graph optimisation the specs leave the checked
  dimensions unknown (``[None, None, None, None]`` for images): with a static
  spec, Grappler folds ``tf.shape`` into a constant and the check away, while
  TF Serving's feeds are not validated against the placeholder's shape.
  The expected shape is stated in the error message and in the model's
  ``serving_endpoints`` docstring.
* **Outputs** (`generator_outputs`): ``images`` float32 in [-1, 1],
  ``images_uint8`` uint8 in [0, 255] and ``images_png_bytes``, one PNG file per
  image. TF Serving's REST API base64-encodes every output whose alias ends in
  ``_bytes`` (``{"b64": "..."}``), so a browser or ``curl | base64 -d`` gets a
  viewable file; gRPC clients get the raw bytes.
* **Sampling endpoints** take ``num_images`` (or a label vector) and a
  ``seed``; the count is capped at `MAX_SAMPLED_IMAGES` so that a two-number
  request cannot ask a server for a billion images.

Everything here is stock TensorFlow ops (no ``tf.py_function``): the exports
load in TF Serving and in any TensorFlow process without kgan.
"""

from __future__ import annotations

import inspect

import tensorflow as tf

from kgan.data.ranges import to_model_range, to_uint8

__all__ = [
    "MAX_SAMPLED_IMAGES",
    "checked_batch_sizes",
    "checked_count",
    "checked_images",
    "checked_vectors",
    "generator_outputs",
    "image_spec",
]

# Largest batch one sampling request may ask for. At 64x64x3 that is ~50 MB of
# float32 output; serve bigger jobs in several requests.
MAX_SAMPLED_IMAGES = 1024


def image_spec(dtype=tf.float32, name="images") -> tf.TensorSpec:
    """A rank-4 image input whose dimensions are left for `checked_images` to check."""
    return tf.TensorSpec([None, None, None, None], dtype, name=name)


def _format_shape(shape) -> str:
    return "[N, " + ", ".join(str(d) for d in shape) + "]"


def _after(checks, tensor):
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


def checked_images(images, shape, name="images"):
    """Checks a served image batch and returns it as float32 in [-1, 1].

    Args:
      images: ``[N, H, W, C]``, either uint8 pixels in [0, 255] or float32 in
        [-1, 1] (the models' range), with unknown dimensions (`image_spec`).
      shape: the expected ``(H, W, C)``.
      name: the input's alias, for the error messages.

    Returns:
      float32 ``[N, H, W, C]`` in [-1, 1] with the static shape restored, so
      the networks trace as usual. It runs only after the checks passed.

    Raises (when the graph runs):
      InvalidArgumentError: wrong ``H, W, C``, or float values outside [-1, 1]
        (NaN included).
    """
    expected = _format_shape(shape)
    checks = [
        tf.debugging.assert_equal(
            tf.shape(images)[1:],
            tf.constant(shape, tf.int32),
            message=f"{name} must have shape {expected} ({images.dtype.name}); got another shape",
            summarize=4,
        )
    ]
    if images.dtype == tf.uint8:
        model_range = to_model_range(images)
    else:
        model_range = tf.cast(images, tf.float32)
        # One reduction instead of two asserts over the whole batch; NaN fails
        # the comparison too.
        in_range = tf.reduce_all((model_range >= -1.0) & (model_range <= 1.0))
        checks.append(
            tf.debugging.Assert(
                in_range,
                [f"{name} must be float32 in [-1, 1] (uint8 pixels go to the *_uint8 signature); "
                 "got values outside it. min and max:", tf.reduce_min(model_range), tf.reduce_max(model_range)],
            )
        )
    return tf.ensure_shape(_after(checks, model_range), [None, *shape])


def checked_vectors(values, width, name, minimum=None, maximum=None):
    """Checks a ``[N, width]`` float input (latent codes, attribute vectors).

    Args:
      values: float32 ``[N, D]`` with ``D`` unknown in the spec.
      width: the expected ``D``.
      name: the input's alias, for the error messages.
      minimum, maximum: optional inclusive bounds on every value; NaN always fails.

    Returns:
      ``values`` with static shape ``[N, width]``, after the checks.
    """
    checks = [
        tf.debugging.assert_equal(
            tf.shape(values)[1:], tf.constant([width], tf.int32),
            message=f"{name} must have shape [N, {width}]; got another width", summarize=2,
        ),
        tf.debugging.Assert(
            tf.reduce_all(tf.math.is_finite(values)), [f"{name} must be finite; got NaN or inf."]
        ),
    ]
    if minimum is not None or maximum is not None:
        low = -float("inf") if minimum is None else minimum
        high = float("inf") if maximum is None else maximum
        checks.append(
            tf.debugging.Assert(
                tf.reduce_all((values >= low) & (values <= high)),
                [f"{name} must lie in [{low}, {high}]; got min and max:", tf.reduce_min(values), tf.reduce_max(values)],
            )
        )
    return tf.ensure_shape(_after(checks, values), [None, width])


def checked_count(count, name="num_images", limit=MAX_SAMPLED_IMAGES):
    """Checks a requested number of samples: ``1 <= count <= limit``."""
    checks = [
        tf.debugging.assert_positive(count, message=f"{name} must be >= 1"),
        tf.debugging.assert_less_equal(
            count, tf.constant(limit, count.dtype),
            message=f"{name} must be <= {limit} per request (kgan.serving.MAX_SAMPLED_IMAGES); send several requests",
        ),
    ]
    return _after(checks, count)


def checked_batch_sizes(named_tensors: dict):
    """Checks that every tensor of ``{alias: tensor}`` has the same batch size; returns them in order."""
    names = list(named_tensors)
    first = named_tensors[names[0]]
    checks = [
        tf.debugging.assert_equal(
            tf.shape(first)[0], tf.shape(tensor)[0],
            message=f"{names[0]} and {name} must have the same batch size (dimension 0)",
        )
        for name, tensor in list(named_tensors.items())[1:]
    ]
    return [_after(checks, tensor) for tensor in named_tensors.values()]


def generator_outputs(samples) -> dict:
    """Maps generator samples to the named outputs of a serving signature.

    Pure TF ops: it is traced into the exported graphs.

    Args:
      samples: either an image batch ``[N, H, W, C]`` (any float dtype; the
        models produce float32 in [-1, 1]; C in 1, 3 or 4 for the PNG output)
        or a batch of points ``[N, D]``. The rank must be known when tracing.

    Returns:
      For images, ``{"images": float32 [N, H, W, C] clipped to [-1, 1],
      "images_uint8": uint8 [N, H, W, C] in [0, 255], "images_png_bytes":
      string [N], each a PNG file of that image}`` with
      ``images_uint8 = round((images + 1) * 127.5)``, so -1 -> 0, 1 -> 255 and
      0 -> 128. `tf.round` rounds halves to even: the scaled value 127.5
      (x = 0) becomes 128, but 0.5 becomes 0 and 2.5 becomes 2. Clipping
      happens before scaling, so out-of-range values saturate at 0 and 255
      rather than wrapping around. NaNs stay NaN in ``images``; their
      ``images_uint8`` value is unspecified.

      For points, ``{"samples": float32 [N, D]}`` (unbounded, not clipped).

    Raises:
      ValueError: if the rank is unknown or neither 2 nor 4, or the samples
        are not floating point.
    """
    samples = tf.convert_to_tensor(samples)
    if not samples.dtype.is_floating:
        raise ValueError(f"generator_outputs expects floating-point samples; got {samples.dtype.name}.")
    # Cast first: bfloat16/float16 outputs of mixed-precision generators are
    # served as float32, the dtype the signatures promise.
    samples = tf.cast(samples, tf.float32)
    rank = samples.shape.rank
    if rank == 4:
        images = tf.clip_by_value(samples, -1.0, 1.0)
        images_uint8 = to_uint8(images)
        png = tf.map_fn(tf.io.encode_png, images_uint8, fn_output_signature=tf.TensorSpec([], tf.string))
        return {"images": images, "images_uint8": images_uint8, "images_png_bytes": png}
    if rank == 2:
        return {"samples": samples}
    raise ValueError(
        "generator_outputs expects images [N, H, W, C] or points [N, D]; "
        f"got a tensor of shape {samples.shape}."
    )


def translation_endpoints(name: str, translate, shape, condition=None) -> dict:
    """``{name: float32 endpoint, name + "_uint8": uint8 endpoint}`` of an image-to-image translator.

    The one builder of CycleGAN's and StarGAN's signatures. Each takes
    ``images [N, H, W, C]`` (float32 in [-1, 1], or uint8 in [0, 255] for the
    ``_uint8`` one) and, with ``condition``, a float32 vector input, and
    returns `generator_outputs` of ``translate(images)`` or
    ``translate(images, vectors)``. Inputs are checked in-graph
    (`checked_images`, `checked_vectors`, `checked_batch_sizes`).

    Args:
      name: the float signature's name, e.g. ``"x_to_y"``.
      translate: ``images float32 -> images`` (``(images, vectors) -> images`` with a condition).
      shape: ``(H, W, C)`` the translator takes.
      condition: None, or ``(input_name, width, minimum, maximum)`` of the vector input.
    """

    def endpoint(dtype):
        if condition is None:
            @tf.function(input_signature=[image_spec(dtype)])
            def serve(images):
                return generator_outputs(translate(checked_images(images, shape)))

            return serve
        input_name, width, minimum, maximum = condition

        def serve_conditioned(images, vectors):
            images, vectors = checked_batch_sizes({"images": images, input_name: vectors})
            vectors = checked_vectors(vectors, width, input_name, minimum=minimum, maximum=maximum)
            return generator_outputs(translate(checked_images(images, shape), vectors))

        # Callers name the second input as the signature does (``target_attributes=``).
        parameter = inspect.Parameter
        serve_conditioned.__signature__ = inspect.Signature(
            [parameter("images", parameter.POSITIONAL_OR_KEYWORD), parameter(input_name, parameter.POSITIONAL_OR_KEYWORD)]
        )
        return tf.function(
            serve_conditioned,
            input_signature=[image_spec(dtype), tf.TensorSpec([None, None], tf.float32, name=input_name)],
        )

    return {name: endpoint(tf.float32), f"{name}_uint8": endpoint(tf.uint8)}
