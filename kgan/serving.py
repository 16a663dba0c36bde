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
* **Every batch is bounded** (`bounded_endpoint`, which `kgan.export` wraps
  around every signature): each input of rank >= 1 holds at most
  ``max_batch_size`` examples along dimension 0 (`MAX_SAMPLED_IMAGES` unless
  the export says otherwise), the same bound ``num_images`` gets. The check
  runs first and gates everything after it, so a refused request allocates
  nothing beyond itself and never reaches the generator: a 6 MB request of
  200,000 latent codes would otherwise take gigabytes of activations. Inputs
  of the wrong rank (a lone z vector, a vector ``num_images``) fail there too,
  with the input's name, instead of deep in a kernel.

Everything here is stock TensorFlow ops (no ``tf.py_function``): the exports
load in TF Serving and in any TensorFlow process without kgan.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import numbers

import numpy as np
import tensorflow as tf

from kgan.data.ranges import to_model_range, to_uint8

__all__ = [
    "MAX_GENERATED_BYTES",
    "MAX_SAMPLED_IMAGES",
    "batch_limit",
    "bounded_endpoint",
    "check_batch_limit",
    "check_num_samples",
    "check_seed",
    "checked_batch",
    "checked_batch_sizes",
    "checked_count",
    "checked_images",
    "checked_scalar",
    "checked_vectors",
    "generator_outputs",
    "image_spec",
    "in_chunks",
    "max_batch_size",
]

# Largest batch one request may send or ask for, by default: ``num_images`` of
# a ``sample`` request and dimension 0 of every batch input. At 64x64x3 that
# is ~50 MB of float32 output; serve bigger jobs in several requests.
# `kgan.export.export_saved_model(max_batch_size=...)` sets another bound.
MAX_SAMPLED_IMAGES = 1024

# Largest float32 result of one Python sampling call (`GAN.generate`, its
# latent codes included): 1 GiB, e.g. ~290,000 28x28 images or ~21,000
# 64x64x3 ones. `generate` runs the network MAX_SAMPLED_IMAGES samples at a
# time, so its peak memory is this plus one chunk's activations; more than
# this is refused rather than risking the process (draw in batches instead).
MAX_GENERATED_BYTES = 2**30

# The bound the checked_* helpers read while a signature is traced (an export
# sets it for its tracing with `batch_limit`); graphs keep the value they were
# traced with.
_MAX_BATCH_SIZE = contextvars.ContextVar("kgan_serving_max_batch_size", default=MAX_SAMPLED_IMAGES)
_INT32_MAX = 2**31 - 1


def check_batch_limit(limit, name="max_batch_size") -> int:
    """Returns ``limit`` if it is a usable batch bound: an int in ``[1, 2**31 - 1]`` (not a bool)."""
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral):
        raise TypeError(f"{name} must be an int >= 1 (examples per request); got {limit!r} ({type(limit).__name__}).")
    if not 1 <= int(limit) <= _INT32_MAX:
        raise ValueError(f"{name} must be an int in [1, {_INT32_MAX}] (examples per request, compared with int32 shapes); got {limit}.")
    return int(limit)


def max_batch_size() -> int:
    """The batch bound the helpers put into a signature traced now (`MAX_SAMPLED_IMAGES` outside `batch_limit`)."""
    return _MAX_BATCH_SIZE.get()


@contextlib.contextmanager
def batch_limit(limit):
    """Within the block, signatures traced with these helpers cap batches at ``limit`` examples.

    Read at trace time: a `tf.function` traced (e.g. by ``get_concrete_function``)
    inside the block keeps ``limit``; one traced before keeps its own bound.
    """
    token = _MAX_BATCH_SIZE.set(check_batch_limit(limit))
    try:
        yield
    finally:
        _MAX_BATCH_SIZE.reset(token)


def image_spec(dtype=tf.float32, name="images") -> tf.TensorSpec:
    """A rank-4 image input whose dimensions are left for `checked_images` to check."""
    return tf.TensorSpec([None, None, None, None], dtype, name=name)


def _format_shape(shape) -> str:
    return "[" + ", ".join(["N", *(str(d) for d in shape)]) + "]"


def _after(checks, tensor):
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


# ---------------------------------------------------------------------- Python-side sampling bounds


def check_num_samples(num_samples, floats_per_sample: int, name="num_samples") -> int:
    """Checks a Python sample count; returns it as an int.

    Args:
      num_samples: a positive Python or numpy integer (not a bool, not an array).
      floats_per_sample: float32 values one sample costs (its latent code plus
        its output), for the `MAX_GENERATED_BYTES` bound.
      name: the argument's name, for the messages.

    Raises:
      ValueError: not a positive int, or more samples than fit in
        `MAX_GENERATED_BYTES` of float32.
    """
    if isinstance(num_samples, (bool, np.bool_)) or not isinstance(num_samples, numbers.Integral) or num_samples < 1:
        raise ValueError(f"{name} must be a positive int (a Python or numpy integer); got {num_samples!r}.")
    num_samples = int(num_samples)
    most = max(1, MAX_GENERATED_BYTES // (4 * max(1, int(floats_per_sample))))
    if num_samples > most:
        raise ValueError(
            f"{name}={num_samples:,} asks for {num_samples * floats_per_sample * 4 / 2**30:,.1f} GiB of float32; "
            f"at most {most:,} samples per call (kgan.serving.MAX_GENERATED_BYTES = 1 GiB). Draw them in batches "
            "(kgan.metrics.quality.generated_batches does, with balanced labels for conditional models)."
        )
    return num_samples


def in_chunks(fn, inputs, chunk_size=MAX_SAMPLED_IMAGES):
    """``fn(inputs)``, computed on at most ``chunk_size`` examples at a time and concatenated.

    For the Python sampling calls (`GAN.generate`): the peak memory is the
    output plus one chunk's activations, not the activations of the whole
    batch. The networks kgan samples from treat examples independently at
    inference, so the result equals one call up to float rounding, and is that
    one call when the batch fits one chunk.

    Args:
      fn: a batch of ``inputs`` -> a float tensor ``[n, ...]``.
      inputs: a tensor ``[N, ...]`` or a list of them with the same ``N``.
      chunk_size: examples per call of ``fn``.

    Returns:
      ``[N, ...]``, the outputs of ``fn`` in order.
    """
    first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
    total = int(first.shape[0])
    if total <= chunk_size:
        return fn(inputs)

    def part(start):
        if isinstance(inputs, (list, tuple)):
            return type(inputs)(x[start:start + chunk_size] for x in inputs)
        return inputs[start:start + chunk_size]

    return tf.concat([fn(part(start)) for start in range(0, total, chunk_size)], axis=0)


def check_seed(seed, name="seed") -> int:
    """Returns ``seed`` as an int if it is a Python or numpy int (not a bool) that fits int64."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or not -(2**63) <= seed < 2**63:
        raise ValueError(f"{name} must be an int in [-2**63, 2**63) (the stateless sampling seed); got {seed!r}.")
    return int(seed)


# ---------------------------------------------------------------------- in-graph bounds


def _runtime_rank(tensor):
    """The rank of ``tensor`` as the graph sees it when it runs, never folded into a constant.

    The specs promise a rank, but TF Serving does not check feeds against them,
    and Grappler folds ``tf.rank`` and ``tf.size(tf.shape(x))`` into the spec's
    rank (measured on TF 2.21: a check on either lets a rank-1 z through).
    Counting the entries of the shape vector by value (all are >= 0) is
    something it cannot fold.
    """
    return tf.reduce_sum(tf.cast(tf.shape(tensor) >= 0, tf.int32))


def checked_batch(values, name, example_shape, limit=None):
    """Checks the rank and batch size of a batch input first; everything after runs only if they pass.

    Args:
      values: ``[N, *example_shape]`` as fed (any dtype; the rank is checked
        when the graph runs, see `_runtime_rank`).
      name: the input's alias, for the messages.
      example_shape: the shape of one example, for the rank and the message,
        e.g. ``(28, 28, 1)``, ``(8,)`` or ``()``; None entries show as ``?``.
      limit: the most examples ``N`` a request may hold; defaults to
        `max_batch_size` (read now, at trace time).

    Returns:
      ``values``, after the checks.

    Raises (when the graph runs):
      InvalidArgumentError: another rank, or ``N > limit`` ("send several requests").
    """
    limit = max_batch_size() if limit is None else check_batch_limit(limit, "limit")
    rank = 1 + len(example_shape)
    layout = _format_shape(["?" if d is None else d for d in example_shape])
    actual = _runtime_rank(values)
    values = _after(
        [tf.debugging.Assert(tf.equal(actual, rank), [f"{name} must have rank {rank} ({layout}, N examples); got rank", actual])],
        values,
    )
    # After the rank check: dimension 0 exists. The comparison is all a refused
    # request costs; the generator and every conversion depend on what this returns.
    count = tf.shape(values)[0]
    return _after(
        [tf.debugging.Assert(
            count <= limit,
            [f"{name} holds more than {limit} examples (dimension 0): an export serves at most {limit} per request "
             f"(export_saved_model's max_batch_size, kgan.serving.MAX_SAMPLED_IMAGES by default); send several "
             f"requests. Got", count],
        )],
        values,
    )


def checked_scalar(value, name):
    """Checks that an integer input holds one value; returns it as a true scalar.

    A ``[]`` spec does not stop a server from feeding a vector, and Grappler
    folds shape checks on a static ``[]`` (`_runtime_rank`), so the values are
    counted instead, and the scalar returned is the first of them: later ops
    get a scalar even if a check were folded. A one-element tensor (TF
    Serving's row format turns a lone instance into ``[1]``) is read as its value.

    Args:
      value: an integer tensor, ``[]`` in the spec.
      name: the input's alias, for the message.

    Returns:
      A scalar of ``value``'s dtype, after the check.
    """
    if not value.dtype.is_integer:
        raise TypeError(f"checked_scalar takes integer inputs; {name} is {value.dtype.name}.")
    flat = tf.reshape(value, [-1])
    size = tf.reduce_sum(tf.cast(flat >= value.dtype.min, tf.int32))
    check = tf.debugging.Assert(tf.equal(size, 1), [f"{name} must be a scalar (one {value.dtype.name}); got a tensor of", size, "values"])
    return _after([check], flat)[0]


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
      InvalidArgumentError: not rank 4, more than `max_batch_size` images
        (`checked_batch`, checked first), wrong ``H, W, C``, or float values
        outside [-1, 1] (NaN included).
    """
    images = checked_batch(images, name, shape)
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
      ``values`` with static shape ``[N, width]``, after the checks (the rank
      and the batch bound of `checked_batch` first).
    """
    values = checked_batch(values, name, (width,))
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


def checked_count(count, name="num_images", limit=None):
    """Checks a requested number of samples: a scalar with ``1 <= count <= limit``.

    Args:
      count: an integer tensor (``[]`` in the spec; see `checked_scalar`).
      name: the input's alias, for the messages.
      limit: defaults to `max_batch_size` (read at trace time), the bound of
        every batch input of the same export.

    Returns:
      ``count`` as a scalar, after the checks.
    """
    limit = max_batch_size() if limit is None else check_batch_limit(limit, "limit")
    count = checked_scalar(count, name)
    checks = [
        tf.debugging.assert_positive(count, message=f"{name} must be >= 1"),
        tf.debugging.assert_less_equal(
            count, tf.constant(limit, count.dtype),
            message=f"{name} must be <= {limit} per request (export_saved_model's max_batch_size, "
            "kgan.serving.MAX_SAMPLED_IMAGES by default); send several requests",
        ),
    ]
    return _after(checks, count)


def checked_batch_sizes(named_tensors: dict):
    """Checks that every tensor of ``{alias: tensor}`` has the same batch size; returns them in order.

    Call it on inputs whose ranks were checked (`checked_batch` and the
    helpers that use it): dimension 0 must exist.
    """
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
            # Each input's own checks (rank and batch bound first), then their agreement.
            images = checked_images(images, shape)
            vectors = checked_vectors(vectors, width, input_name, minimum=minimum, maximum=maximum)
            images, vectors = checked_batch_sizes({"images": images, input_name: vectors})
            return generator_outputs(translate(images, vectors))

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


def sample_input_endpoints(name: str, fn, shape) -> dict:
    """Endpoints that take a batch shaped like the training data and return ``fn`` of it.

    For images (``shape`` ``(H, W, C)``): ``{name: float32 [N, H, W, C] in
    [-1, 1], name + "_uint8": uint8 [N, H, W, C]}``, each checked with
    `checked_images`; for points (``shape`` ``(D,)``): ``{name: float32
    points [N, D]}`` checked with `checked_vectors`. ``fn`` takes the checked
    float32 batch (in the model's range) and returns the signature's outputs
    (a dict of tensors). CatGAN's ``classify``, BiGAN's ``encode`` and
    ``reconstruct`` are built here.
    """
    shape = tuple(shape)
    if len(shape) != 3:
        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="points")])
        def serve_points(points):
            return fn(checked_vectors(points, shape[0], "points"))

        return {name: serve_points}

    def image_endpoint(dtype):
        @tf.function(input_signature=[image_spec(dtype)])
        def serve_images(images):
            return fn(checked_images(images, shape))

        return serve_images

    return {name: image_endpoint(tf.float32), f"{name}_uint8": image_endpoint(tf.uint8)}


def bounded_endpoint(fn, max_batch_size=MAX_SAMPLED_IMAGES):
    """Wraps a serving endpoint so that every input is checked before ``fn`` runs; traces it.

    `kgan.export` wraps every signature with this, so no export takes an
    unbounded batch, whatever its model's ``serving_endpoints`` checks itself:

    * an input of rank >= 1 in the spec: that rank and at most
      ``max_batch_size`` examples along dimension 0 (`checked_batch`);
    * an integer scalar: one value (`checked_scalar`);
    * inputs of unknown rank pass through unchecked.

    ``fn`` is traced inside `batch_limit(max_batch_size)`, so the helpers it
    calls (``checked_count`` for ``num_images``, ...) use the same bound. The
    wrapper has ``fn``'s input signature (names, dtypes, shapes) and returns
    its outputs unchanged; ``fn``'s work depends on the checked inputs, so a
    refused request runs nothing of it.

    Args:
      fn: a `tf.function` with an ``input_signature`` of named `tf.TensorSpec`s.
      max_batch_size: see `check_batch_limit`.

    Returns:
      The wrapping `tf.function`, already traced.
    """
    limit = check_batch_limit(max_batch_size)
    specs = fn.input_signature
    flat_specs = tf.nest.flatten(specs)

    def bounded(*args):
        checked = []
        for spec, value in zip(flat_specs, tf.nest.flatten(args)):
            rank = spec.shape.rank
            if rank == 0 and spec.dtype.is_integer:
                value = checked_scalar(value, spec.name)
            elif rank:
                value = checked_batch(value, spec.name, spec.shape.as_list()[1:], limit=limit)
            checked.append(value)
        with batch_limit(limit):  # only while tracing: this body runs at trace time
            return fn(*tf.nest.pack_sequence_as(list(args), checked))

    names = [spec.name for spec in specs] if all(isinstance(spec, tf.TensorSpec) for spec in specs) else []
    if names and all(str(n).isidentifier() for n in names):
        # Callers and SignatureDefs name the inputs as the wrapped function does.
        parameter = inspect.Parameter
        bounded.__signature__ = inspect.Signature([parameter(n, parameter.POSITIONAL_OR_KEYWORD) for n in names])
    wrapped = tf.function(bounded, input_signature=specs, autograph=False)
    wrapped.get_concrete_function()
    return wrapped
