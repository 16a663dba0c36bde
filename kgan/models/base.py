"""`AdversarialModel`: the training machinery every kgan model shares.

It holds no GAN math. It provides:

* ``compile(generator_optimizer=..., discriminator_optimizer=...)``: two
  optimizers, each built at compile time on its own variables inside the
  model's distribution strategy (so resuming and two-replica training work),
  wrapped in `keras.optimizers.LossScaleOptimizer` under ``mixed_float16``.
* ``minimize``: one gradient step of one optimizer on one loss, with the loss
  divided by the number of replicas (under `tf.distribute` gradients are
  summed across replicas, so this keeps single-device semantics) and scaled
  for float16.
* ``normal_noise``: latent noise that is a pure function of (model seed,
  training step, stream), drawn for the *global* batch and sliced per replica,
  so N replicas see exactly the noise one device would see for the same batch.
* Mean trackers (metrics are epoch means), a ``train_steps`` counter saved with
  the weights, ``get_config``/``get_compile_config`` for ``.keras`` round trips,
  and input validation in ``fit``/``evaluate`` before any training starts.

Subclasses define ``generator_variables``/``discriminator_variables``,
``metric_names``, ``train_step``/``test_step``, ``call`` (the generator's
forward pass) and ``check_batch``.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf

# Streams per step: draws within one step use distinct stream numbers below this.
_STREAMS_PER_STEP = 4096


def replica_info():
    """Returns ``(replica_id, num_replicas)`` of the current replica context.

    Both are 0/1 outside `tf.distribute`. ``replica_id`` may be a tensor.
    """
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context: not inside strategy.run.
        return 0, 1
    return context.replica_id_in_sync_group, context.num_replicas_in_sync


def _gather_by_sum(context, values):
    """``all_gather`` built from ``all_reduce``: each replica writes its rows into zeros, then SUM.

    MultiWorkerMirroredStrategy's replica-context ``all_gather`` fails on CPU
    workers here ("destinations can not be empty", TF 2.21); the sum of
    zero-padded copies is exact (x + 0 = x) and uses the gradients' collective.
    """
    replica_id, num_replicas = context.replica_id_in_sync_group, context.num_replicas_in_sync
    size = tf.shape(values)[0]
    rows = tf.cast(replica_id, tf.int32) * size + tf.range(size)
    dtype = values.dtype
    summable = values if dtype.is_floating else tf.cast(values, tf.float32)  # Labels: small integers, exact in float32.
    padded = tf.scatter_nd(rows[:, None], summable, tf.concat([[size * num_replicas], tf.shape(values)[1:]], 0))
    return tf.cast(context.all_reduce(tf.distribute.ReduceOp.SUM, padded), dtype)


class AdversarialModel(keras.Model):
    """Base class of kgan's adversarial models (no GAN math here).

    Args:
      seed: integer; with the training step it determines all noise drawn in
        training, so runs (and resumed runs) are reproducible.
      **kwargs: passed to `keras.Model` (``name``, ``dtype``).
    """

    #: Names of the Mean trackers; subclasses extend this.
    metric_names: tuple = ("d_loss", "g_loss")

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        # Counts train_step calls; saved with the weights, so resumed runs continue
        # the same noise sequence. Only the first replica's update counts.
        self.train_steps = keras.Variable(
            0, dtype="int64", trainable=False, name="train_steps", aggregation="only_first_replica"
        )
        self.eval_steps = keras.Variable(
            0, dtype="int64", trainable=False, name="eval_steps", aggregation="only_first_replica"
        )
        # Float16 only: the train step in which some network's gradients overflowed.
        self.overflow_step = keras.Variable(
            -1, dtype="int64", trainable=False, name="overflow_step", aggregation="only_first_replica"
        )
        self.generator_optimizer = None
        self.discriminator_optimizer = None
        self.xla_gradients = False

    # ------------------------------------------------------------------ subclass API

    @property
    def generator_variables(self):
        """Trainable variables the generator optimizer updates."""
        raise NotImplementedError

    @property
    def discriminator_variables(self):
        """Trainable variables the discriminator optimizer updates."""
        raise NotImplementedError

    def default_optimizers(self):
        """Returns ``(generator_optimizer, discriminator_optimizer)`` from the model's paper."""
        return (
            keras.optimizers.Adam(2e-4, beta_1=0.5),
            keras.optimizers.Adam(2e-4, beta_1=0.5),
        )

    def check_batch(self, batch) -> None:
        """Raises ValueError when a training batch does not fit the model."""

    # ------------------------------------------------------------------ compile

    def compile(
        self,
        generator_optimizer=None,
        discriminator_optimizer=None,
        *,
        jit_compile="auto",
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
    ):
        """Configures the two optimizers.

        Args:
          generator_optimizer: a `keras.optimizers.Optimizer`, its name or its
            config dict; defaults to the model's paper (`default_optimizers`).
          discriminator_optimizer: likewise for the discriminator / critic.
          jit_compile: ``True``, ``False`` or ``"auto"``: compile each
            network's loss-and-gradient computation with XLA (see `minimize`).
            ``"auto"`` turns XLA on where a GPU or TPU is visible and off on
            CPUs, where bench/throughput.py measured it at 0.3x-1.1x the
            plain speed depending on the model and policy.
          run_eagerly: passed to `keras.Model.compile`.
          steps_per_execution: passed to `keras.Model.compile`.
        """
        # optimizer=None: Keras must not create (and build over *all* variables)
        # an optimizer of its own.
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto'; got {jit_compile!r}.")
        if jit_compile == "auto":
            jit_compile = bool(tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))
        #: Whether `minimize` compiles the loss-and-gradient computation with XLA.
        self.xla_gradients = bool(jit_compile) and not run_eagerly
        # Keras' own jit_compile compiles the whole train_step, optimizer
        # updates included, which fails under MirroredStrategy (DESIGN.md,
        # pitfalls); kgan compiles the per-replica gradient computation instead.
        super().compile(
            optimizer=None,
            jit_compile=False,
            run_eagerly=run_eagerly,
            steps_per_execution=steps_per_execution,
        )
        default_g, default_d = self.default_optimizers()
        self.generator_optimizer = self._prepare_optimizer(
            generator_optimizer or default_g, self.generator_variables, "generator_optimizer"
        )
        self.discriminator_optimizer = self._prepare_optimizer(
            discriminator_optimizer or default_d, self.discriminator_variables, "discriminator_optimizer"
        )

    def _prepare_optimizer(self, optimizer, variables, name):
        if isinstance(optimizer, (str, dict)):
            optimizer = keras.optimizers.get(optimizer)
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            raise TypeError(f"{name} must be a keras.optimizers.Optimizer, a name or a config; got {optimizer!r}.")
        if self.dtype_policy.name == "mixed_float16" and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer
        ):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name=f"{name}_loss_scale")
        # Build now, inside the strategy's scope: slot variables must be mirrored,
        # and a restore into an unbuilt optimizer silently drops its state.
        with self.distribute_strategy.scope():
            if not optimizer.built:
                optimizer.build(variables)
        return optimizer

    #: Constructor arguments that are Keras models; `get_config` serializes them
    #: (via `network_config`) and `from_config` rebuilds them.
    network_arguments: tuple = ("generator", "discriminator")

    def network_config(self) -> dict:
        """``{argument: serialized network}`` for every name in `network_arguments`."""
        return {name: keras.saving.serialize_keras_object(getattr(self, name)) for name in self.network_arguments}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in cls.network_arguments:
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    def get_compile_config(self):
        if self.generator_optimizer is None:
            return None
        return {
            "generator_optimizer": keras.saving.serialize_keras_object(self.generator_optimizer),
            "discriminator_optimizer": keras.saving.serialize_keras_object(self.discriminator_optimizer),
            "jit_compile": self.xla_gradients,
        }

    def compile_from_config(self, config):
        # Keras skips custom compile() on load; ours is replayed so that the
        # optimizers exist (and are built) before their state is restored.
        self.compile(
            generator_optimizer=keras.saving.deserialize_keras_object(config["generator_optimizer"]),
            discriminator_optimizer=keras.saving.deserialize_keras_object(config["discriminator_optimizer"]),
            jit_compile=config.get("jit_compile", False),
        )

    # ------------------------------------------------------------------ training helpers

    @property
    def metrics(self):
        # Keras resets these at the start of every epoch: logged values are epoch means.
        return list(self.trackers.values())

    def update_trackers(self, **values):
        """Adds one observation to each named Mean tracker."""
        for name, value in values.items():
            self.trackers[name].update_state(value)

    def tracker_results(self):
        """Current value of every tracker, as ``{name: scalar}``."""
        results = {name: tracker.result() for name, tracker in self.trackers.items()}
        if isinstance(self.distribute_strategy, tf.distribute.MultiWorkerMirroredStrategy):
            # Keras 3 reduces a multi-worker step's logs with
            # strategy.reduce("MEAN", v, axis=0), which fails on scalars
            # ("Invalid reduction dimension 0", tensorflow/tensorflow#72388):
            # hand it [1]-vectors, which it reduces to the scalar mean.
            results = {name: tf.reshape(value, [1]) for name, value in results.items()}
        return results

    def minimize(self, optimizer, loss_fn, variables):
        """One step of ``optimizer`` on ``loss_fn()`` w.r.t. ``variables``.

        Args:
          optimizer: the optimizer of the network whose turn it is.
          loss_fn: zero-argument callable returning ``(loss, extras)``: a
            float32 scalar (the mean over this replica's batch) and a dict of
            extra tensors to hand back.
          variables: the variables to update.

        Returns:
          ``(loss, extras)`` as computed before the update.
        """
        _, num_replicas = replica_info()

        def loss_and_gradients():
            with tf.GradientTape() as tape:
                loss, extras = loss_fn()
                # Gradients are summed across replicas: divide the replica mean so the
                # sum equals the gradient of the global-batch mean.
                scaled = optimizer.scale_loss(loss / num_replicas)
            return loss, extras, tape.gradient(scaled, variables)

        if self.xla_gradients:
            # One XLA cluster per network and replica; the optimizer update
            # (and any cross-replica sum) stays outside it.
            loss, extras, gradients = tf.function(loss_and_gradients, jit_compile=True)()
        else:
            loss, extras, gradients = loss_and_gradients()
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            gradients = self._skip_after_overflow(gradients)
        optimizer.apply_gradients(zip(gradients, variables))
        return loss, extras

    @contextlib.contextmanager
    def atomic_float16_step(self):
        """Wraps a train step's updates: under float16, a step that overflows anywhere changes no network.

        `_skip_after_overflow` skips the update that overflowed and every later
        one of the step; this also undoes the updates made *before* it in the
        same step (e.g. the discriminator's, when the generator overflows): on
        entry it snapshots every network, pool and inner-optimizer variable,
        and on exit restores them all if some update of this step overflowed.
        The loss scales keep their reduction, so the next step is retried with
        a smaller scale. Costs one copy of those variables per step, under
        ``mixed_float16`` only; otherwise it does nothing. Call it before
        ``train_steps`` is incremented (the overflow is recorded per step).
        """
        optimizers = [self.generator_optimizer, self.discriminator_optimizer]
        if not any(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in optimizers):
            yield
            return
        counters = {id(self.train_steps), id(self.eval_steps), id(self.overflow_step)}
        variables = [v for v in self.variables if id(v) not in counters]
        for optimizer in optimizers:
            inner = optimizer.inner_optimizer if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else optimizer
            variables += list(inner.variables)
        # Reads are ordered before the step's updates by tf.function's automatic control dependencies.
        snapshot = [tf.identity(v.value) for v in variables]
        yield
        overflowed = tf.equal(self.overflow_step, self.train_steps)
        self.assign_replicated(variables, [tf.where(overflowed, old, v.value) for v, old in zip(variables, snapshot)])

    @staticmethod
    def assign_replicated(variables, values):
        """Assigns ``values`` (computed alike on every replica) to ``variables`` from a train step.

        Inside `strategy.run` a mirrored variable cannot be assigned directly;
        this goes to the cross-replica context (``merge_call``) and updates
        every copy with its replica's value, as optimizers do. Works outside
        `tf.distribute` too.
        """

        def assign(strategy, values):
            for variable, value in zip(variables, values):
                strategy.extended.update(getattr(variable, "value", variable), lambda var, new: var.assign(new), args=(value,))

        tf.distribute.get_replica_context().merge_call(assign, args=(list(values),))

    def _skip_after_overflow(self, gradients):
        """Float16: once a network's gradients overflow in a train step, later networks skip too.

        The LossScaleOptimizer of the network that overflowed skips its update
        and lowers its scale; this makes every later update of the same train
        step non-finite as well, so its optimizer skips it (and lowers its own
        scale): no network takes a step against an opponent that did not move
        as planned. Updates made earlier in the same step are undone by
        `atomic_float16_step`. The decision is all-reduced, so every replica
        skips alike.
        """
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in gradients if g is not None])
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            # ReduceOp has no MIN: count the replicas that overflowed.
            overflows = context.all_reduce(tf.distribute.ReduceOp.SUM, 1.0 - tf.cast(finite, tf.float32))
            finite = overflows < 0.5
        overflowed_earlier = tf.equal(self.overflow_step, self.train_steps)
        self.overflow_step.assign(tf.where(finite, self.overflow_step, self.train_steps))
        poison = tf.where(overflowed_earlier, tf.constant(float("nan")), tf.constant(0.0))
        return [None if g is None else g + tf.cast(poison, g.dtype) for g in gradients]

    @staticmethod
    def batch_size_of(batch):
        """Leading dimension of a batch: a tensor ``[B, ...]`` or a tuple of them (``(images, labels)``)."""
        return tf.shape(tf.nest.flatten(batch)[0])[0]

    def split_minibatches(self, batch):
        """Splits a batch ``[B, ...]`` into k minibatches ``[B // k, ...]`` (one per D step).

        k is the model's ``discriminator_steps`` (1 if it has none).

        A tuple batch such as ``(images, labels)`` is split alike, element by
        element, so minibatch j holds the labels of its own images.

        Under `tf.distribute` the split is of the *global* batch: minibatch j
        is rows ``[j*M, (j+1)*M)`` of the concatenated replica batches (M =
        global batch // k), and each replica trains on its share of it, so N
        replicas run the k steps one device would. This gathers the batch
        across replicas once per step and needs M divisible by N.
        """
        k = getattr(self, "discriminator_steps", 1)
        if k == 1:
            return [batch]
        _, num_replicas = replica_info()
        everyone = tf.nest.map_structure(self.gather_replicas, batch)
        m = self.batch_size_of(everyone) // k
        share = m // num_replicas

        def minibatch(x, j):
            return self.replica_slice(x[j * m : (j + 1) * m], share)

        return [tf.nest.map_structure(lambda x, j=j: minibatch(x, j), everyone) for j in range(k)]

    def normal_noise(self, batch_size, shape, stream: int, training: bool = True):
        """Standard normal noise ``[batch_size, *shape]`` float32 for this replica.

        The noise is a function of (seed, step counter, stream) only. It is
        drawn for the global batch (``batch_size * num_replicas``) and this
        replica takes its slice, so a distributed step sees the same noise as
        a single-device step on the concatenated batch.

        Args:
          batch_size: this replica's batch size (int or scalar tensor).
          shape: per-example shape, e.g. ``(latent_dim,)``.
          stream: small integer (< 4096) separating draws within one step.
          training: use the training counter (else the evaluation counter).
        """
        return self._replica_slice_of_global_draw(tf.random.stateless_normal, batch_size, shape, stream, training)

    def uniform_noise(self, batch_size, shape, stream: int, training: bool = True):
        """Uniform noise in [0, 1), ``[batch_size, *shape]`` float32; otherwise as `normal_noise`."""
        return self._replica_slice_of_global_draw(tf.random.stateless_uniform, batch_size, shape, stream, training)

    @staticmethod
    def gather_replicas(values):
        """Concatenates every replica's ``values [b, ...]`` into the global batch ``[N * b, ...]``.

        The identity outside `tf.distribute`. With `replica_slice`, lets a
        model take a decision on the global batch (same on every replica) and
        hand each replica its part, so N replicas behave like one device.
        """
        _, num_replicas = replica_info()
        if num_replicas == 1:
            return values
        context = tf.distribute.get_replica_context()
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            gathered = _gather_by_sum(context, values)
        else:
            gathered = context.all_gather(values, axis=0)
        # all_gather drops the static per-example shape, which layers such as
        # LayerNormalization over (H, W, C) need.
        return tf.ensure_shape(gathered, [None, *values.shape[1:]])

    @staticmethod
    def replica_slice(global_values, size):
        """This replica's rows ``[size, ...]`` of a `gather_replicas` result (equal replica batches)."""
        replica_id, num_replicas = replica_info()
        if num_replicas == 1:
            return global_values
        start = tf.cast(replica_id, tf.int32) * tf.cast(size, tf.int32)
        return global_values[start : start + size]

    def global_uniform_noise(self, shape, stream: int, training: bool = True):
        """Uniform noise in [0, 1) of ``shape``, the same on every replica.

        For decisions every replica must take alike on globally gathered data
        (e.g. `kgan.image_pool.ImagePool` queries). Same seeding as `normal_noise`.
        """
        shape = tf.stack([tf.cast(size, tf.int32) for size in shape])  # Sizes may be tensors.
        return tf.random.stateless_uniform(shape, seed=self._noise_seed(stream, training))

    def _noise_seed(self, stream, training):
        counter = self.train_steps if training else self.eval_steps
        # Training and evaluation draw from disjoint keys (2*seed and 2*seed + 1).
        key = 2 * self.seed + (0 if training else 1)
        step = tf.cast(tf.convert_to_tensor(counter), tf.int64)
        return tf.stack([tf.constant(key, tf.int64), step * _STREAMS_PER_STEP + stream])

    def _replica_slice_of_global_draw(self, sampler, batch_size, shape, stream, training):
        _, num_replicas = replica_info()
        seed = self._noise_seed(stream, training)
        batch_size = tf.cast(batch_size, tf.int32)
        full = sampler(tf.concat([[batch_size * num_replicas], tf.constant(shape, tf.int32)], 0), seed=seed)
        return self.replica_slice(full, batch_size)

    # ------------------------------------------------------------------ input validation

    def _first_batch(self, x):
        if isinstance(x, tf.data.Dataset):
            for batch in x.take(1):
                return batch
            raise ValueError("The training dataset is empty.")
        if isinstance(x, (np.ndarray, tf.Tensor)):
            return x[:256]
        if isinstance(x, (tuple, list)) and x and all(isinstance(v, (np.ndarray, tf.Tensor)) for v in x):
            return type(x)(v[:256] for v in x)
        return None  # generators, PyDatasets: checked as they are consumed.

    def fit(self, x=None, y=None, **kwargs):
        """`keras.Model.fit`, after checking the first batch with `check_batch`.

        Bad input (wrong rank, channels or value range) fails here, before any
        step runs, with a message that says how to fix it.
        """
        if self.generator_optimizer is None:
            raise RuntimeError("Call model.compile(...) before fit(); compile() with no arguments uses the paper's optimizers.")
        batch = self._first_batch(x)
        if batch is not None:
            self.check_batch(batch if y is None else (batch, y[:256]))
        return super().fit(x, y, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        """`keras.Model.evaluate` with the same input check as `fit`."""
        batch = self._first_batch(x)
        if batch is not None:
            self.check_batch(batch if y is None else (batch, y[:256]))
        return super().evaluate(x, y, **kwargs)

    @staticmethod
    def unpack_batch(data):
        """Keras hands ``train_step`` ``(x,)`` for ``fit(x)``; return ``x`` itself."""
        if isinstance(data, (tuple, list)) and len(data) == 1:
            return data[0]
        return data
