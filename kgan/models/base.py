"""`AdversarialModel`: the training machinery every kgan model shares, and nothing of any model's math.

A model declares three things (docs/design.md, "The model core"):

* ``groups``: optimizer group -> the constructor arguments (Keras networks)
  it trains, e.g. ``{"generator": ("generator",), "discriminator":
  ("discriminator",)}``; any number of groups (an ``"encoder"``, a Q head).
* ``phases()``: the updates of one train step, e.g.
  ``[Phase("discriminator", repeat=k, metric="d_loss"), Phase("generator", metric="g_loss")]``.
  For each phase ``name`` the model defines ``<name>_inputs(minibatch,
  index, state, training)`` (the phase's noise, drawn outside the gradient
  tape) and ``<name>_loss(minibatch, inputs, training)`` -> ``(loss,
  extras)``. A phase may update several groups on one loss (a joint step) or
  each on its own loss (``loss`` a dict ``{group: loss}``: a simultaneous step).
* its seams, ``generate_batch`` and ``discriminate``, when the default
  network calls do not fit.

The base owns, once: the loop over phases; the split of a batch into
minibatches (of the *global* batch under `tf.distribute`); one optimizer per
group (``compile(optimizers={...})``, each built on its own variables inside
the strategy scope, loss-scaled under ``mixed_float16``); the float16
all-or-nothing step; XLA gradients; replica loss scaling; Mean trackers;
``test_step``; the table of noise streams; the remedies every model can use
(generator EMA, historical averaging, DiffAugment); ``get_config`` /
``get_compile_config`` round trips; and input checks in ``fit``/``evaluate``.
"""

from __future__ import annotations

import contextlib
import dataclasses

import keras
import numpy as np
import tensorflow as tf

from kgan import remedies
from kgan.arguments import check_weight
from kgan.data import graph_checks
from kgan.data.validation import check_image_batch

# Streams per step: draws within one step use distinct stream numbers below this.
_STREAMS_PER_STEP = 4096

#: The one table of noise streams. A draw of kind ``k`` for the update with
#: running index ``i`` in a train step (0, 1, ... over every phase's
#: repetitions) uses stream ``NOISE_BANDS[k] + i`` (DiffAugment: ``+ 2i`` and
#: ``+ 2i + 1`` for real and generated images), so no two draws of a step share
#: a stream. Each band holds 512 streams.
NOISE_BANDS = {
    "latent": 0,
    "pool": 512,
    "labels": 1024,
    "targets": 1536,
    "epsilon": 2048,
    "code": 2560,
    "augment": 3072,
}
_BAND_WIDTH = 512


def stream(kind: str, index: int = 0) -> int:
    """The noise stream of draw ``kind`` (a `NOISE_BANDS` key) for update ``index`` of a step."""
    if kind not in NOISE_BANDS:
        raise KeyError(f"Unknown noise kind {kind!r}; add it to kgan.models.base.NOISE_BANDS (one of {sorted(NOISE_BANDS)}).")
    if not 0 <= index < _BAND_WIDTH:
        raise ValueError(f"Noise index {index} is outside [0, {_BAND_WIDTH}): too many updates in one train step.")
    return NOISE_BANDS[kind] + int(index)


def uniform_categories(uniform, count: int):
    """int32 ``[B]`` categories, uniform over ``0..count-1``, from uniform noise ``[B]`` in [0, 1) (labels, clusters, components)."""
    return tf.minimum(tf.cast(uniform * count, tf.int32), count - 1)


@dataclasses.dataclass(frozen=True)
class Phase:
    """One kind of update in a train step.

    Attributes:
      name: the model's methods ``<name>_inputs`` and ``<name>_loss`` serve it.
      groups: the optimizer groups it updates (default ``(name,)``). With
        several groups, ``<name>_loss`` returns one loss that all descend
        (a joint step) or ``{group: loss}`` (a simultaneous step).
      repeat: updates per train step; repetition r uses minibatch
        ``k - repeat + r`` of the k minibatches (a phase repeated n times uses
        the last n, one each; ``repeat <= k``).
      metric: the tracker of the phase's loss (``"d_loss"``), or None when
        ``<name>_loss`` logs through its extras.
    """

    name: str
    groups: tuple = ()
    repeat: int = 1
    metric: str | None = None

    def __post_init__(self):
        if not self.groups:
            object.__setattr__(self, "groups", (self.name,))
        if int(self.repeat) < 1:
            raise ValueError(f"Phase {self.name!r}: repeat must be >= 1; got {self.repeat}.")


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
    """Base class of kgan's adversarial models: the training loop, with no GAN math.

    Args:
      networks: ``{constructor argument: keras.Model}`` for every name in the
        model's ``groups`` (functional networks, already built).
      seed: with the training step it determines all noise drawn in
        training, so runs (and resumed runs) are reproducible.
      generator_ema: decay of an exponential moving average of every
        network of the ``"generator"`` group (e.g. 0.999; Yazici et al.
        2019); sampling (``call``, ``generate``, grids, exports) uses the
        averaged networks (`sampling_network`). 0 disables it.
      historical_averaging: weight of the historical-averaging penalty
        (Salimans et al. 2016, 3.3) that every group adds to its loss in
        training: ``||theta - mean of theta over past steps||^2``. 0 disables it.
      diff_augment: DiffAugment policy (Zhao et al. 2020), a comma-separated
        subset of ``color,translation,cutout``, for the models whose
        discriminators see images: every image a discriminator sees through
        `discriminate` is augmented differentiably. ``""`` disables it.
      **kwargs: passed to `keras.Model` (``name``, ``dtype``).
    """

    #: Optimizer group -> the constructor arguments (networks) it trains, in order.
    groups: dict = {"generator": ("generator",), "discriminator": ("discriminator",)}
    #: Names of the Mean trackers; subclasses extend this.
    metric_names: tuple = ("d_loss", "g_loss")

    def __init__(self, networks: dict, seed: int = 0, generator_ema: float = 0.0, historical_averaging: float = 0.0,
                 diff_augment: str = "", **kwargs):
        super().__init__(**kwargs)
        expected = self.network_names()
        if set(networks) != set(expected):
            raise ValueError(f"{type(self).__name__} takes the networks {expected}; got {tuple(networks)}.")
        for name in expected:
            if not isinstance(networks[name], keras.Model):
                raise TypeError(f"{name} must be a keras.Model; got {type(networks[name]).__name__}.")
            setattr(self, name, networks[name])
        self.seed = int(seed)
        # {network name: weights} while `substituted_weights` is active; plain Python, not tracked by Keras.
        object.__setattr__(self, "_substituted", {})
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
        for group in self.groups:
            setattr(self, f"{group}_optimizer", None)
        self.xla_gradients = False
        #: Whether every train/test step checks its batch's values in the graph
        #: (`batch_value_checks`); bench/throughput.py turns it off to measure its cost.
        self.check_every_batch = True
        self._init_remedies(generator_ema, historical_averaging, diff_augment)
        # The networks are functional models, already built: mark the wrapper
        # built too, or fit/save_weights refuse it (docs/design.md, pitfalls).
        self.built = True

    # ------------------------------------------------------------------ declarations

    @classmethod
    def network_names(cls) -> tuple:
        """Every constructor argument that is a network, group by group."""
        return tuple(name for names in cls.groups.values() for name in names)

    def group_variables(self, group: str) -> list:
        """Trainable variables of the networks of ``group`` (what its optimizer updates)."""
        return [v for name in self.groups[group] for v in getattr(self, name).trainable_variables]

    @property
    def generator_variables(self):
        """Trainable variables the ``"generator"`` group's optimizer updates."""
        return self.group_variables("generator")

    @property
    def discriminator_variables(self):
        """Trainable variables the ``"discriminator"`` group's optimizer updates."""
        return self.group_variables("discriminator")

    @property
    def group_optimizers(self) -> dict:
        """``{group: optimizer}`` after `compile`; ``{}`` before."""
        found = {group: getattr(self, f"{group}_optimizer", None) for group in self.groups}
        return found if all(o is not None for o in found.values()) else {}

    @property
    def minibatches_per_step(self) -> int:
        """k: the minibatches a dataset batch is split into (``discriminator_steps``; 1 without it)."""
        return int(getattr(self, "discriminator_steps", 1))

    def examples_per_step(self, minibatch_size: int) -> int:
        """Examples one train step consumes when each minibatch holds ``minibatch_size``."""
        return int(minibatch_size) * self.minibatches_per_step

    def phases(self) -> list:
        """The updates of one train step, in order (default: k discriminator steps, then one generator step)."""
        return [Phase("discriminator", repeat=self.minibatches_per_step, metric="d_loss"), Phase("generator", metric="g_loss")]

    def updates_per_step(self) -> dict:
        """``{group: optimizer updates per train step}``, from `phases` (a learning-rate schedule's length)."""
        counts = {group: 0 for group in self.groups}
        for phase in self.phases():
            for group in phase.groups:
                counts[group] += phase.repeat
        return counts

    def default_optimizers(self) -> dict:
        """``{group: optimizer}`` from the model's paper (a tuple in ``groups`` order is accepted too)."""
        return {group: keras.optimizers.Adam(2e-4, beta_1=0.5) for group in self.groups}

    def prepare_batch(self, batch):
        """The batch as the phases use it (e.g. labels cast); runs before the split into minibatches."""
        return batch

    def check_batch(self, batch) -> None:
        """Raises ValueError when a training batch does not fit the model.

        The default serves models that train on samples alone: the batch is
        one array whose examples have the model's ``sample_shape`` (what its
        generator or decoder makes), if it has one (images are also checked for dtype and
        the [-1, 1] range), and
        it holds at least one example per minibatch. Models whose batches are
        tuples override it and call `check_minibatch_count`.
        """
        batch = self.unpack_batch(batch)
        if isinstance(batch, (tuple, list, dict)):
            raise ValueError(f"{type(self).__name__} trains on one array of samples per batch; got a {type(batch).__name__}.")
        made = getattr(self, "sample_shape", None)  # What the model makes (GAN: G's output); None: nothing to compare with.
        made = tuple(made) if made is not None else None
        if made is not None and len(made) == 3:
            check_image_batch(batch, expected_shape=made)
        elif made is not None and tuple(batch.shape[1:]) != made:
            raise ValueError(
                f"Training samples have shape {tuple(batch.shape[1:])} per example but the generator "
                f"produces {made}; build the networks for data of shape {tuple(batch.shape[1:])}."
            )
        self.check_minibatch_count(int(batch.shape[0]))

    def batch_value_checks(self, batch) -> list:
        """What every value of a batch must hold, checked in the graph at every step (`kgan.data.graph_checks`).

        The default serves one-array batches: images (rank 4) in [-1, 1],
        other samples finite. Models with tuple batches list each part (e.g.
        ``ValueCheck("labels", labels, "labels", num_classes=K)``).

        Args:
          batch: the unpacked batch as `train_step` receives it.

        Returns:
          A list of `kgan.data.graph_checks.ValueCheck`.
        """
        if isinstance(batch, (tuple, list, dict)):
            return []
        kind = "images" if batch.shape.rank == 4 else "samples"
        return [graph_checks.ValueCheck("images" if kind == "images" else "samples", batch, kind)]

    def _checked(self, batch, training: bool):
        """``(batch, passed)``: the batch behind its in-graph value check, and the check's result.

        Everything computed from the returned batch (losses, gradients, every
        optimizer update) waits for the check; ops that do not read it (the
        step counter) are put under ``tf.control_dependencies([passed])`` by
        the caller. Only data and the counter: a control dependency around the
        whole step also covers the gradient tapes, and then Grappler's
        remapper fails on the gradient-penalty graphs (StarGAN, XLA) and the
        step's numbers change.
        """
        if not self.check_every_batch:
            return batch, tf.constant(True)
        counter = self.train_steps if training else self.eval_steps
        passed = graph_checks.assert_batch_values(
            self.batch_value_checks(batch), tf.convert_to_tensor(counter), "train" if training else "evaluation"
        )
        with tf.control_dependencies([passed]):
            return tf.nest.map_structure(tf.identity, batch), passed

    def check_minibatch_count(self, batch_size: int) -> None:
        """Raises ValueError when a batch of ``batch_size`` cannot give every minibatch of a step an example."""
        k = self.minibatches_per_step
        if batch_size < k:
            raise ValueError(
                f"With discriminator_steps={k}, each batch is split into {k} minibatches, one per "
                f"discriminator step; got a batch of {batch_size}. Batch the dataset by {k} x your minibatch size."
            )

    # ------------------------------------------------------------------ remedies

    def _init_remedies(self, generator_ema, historical_averaging, diff_augment):
        self.generator_ema = check_weight("generator_ema", generator_ema)
        self.historical_averaging = check_weight("historical_averaging", historical_averaging)
        self.augment_policy = remedies.parse_augment_policy(diff_augment)
        if self.augment_policy:
            for name in self.groups.get("discriminator", ()):
                if len(getattr(self, name).inputs[0].shape) != 4:
                    raise ValueError(f"diff_augment={diff_augment!r} augments images; {name} does not take images [B, H, W, C].")
        if self.generator_ema:
            for name in self.groups.get("generator", ()):
                # Attribute <network>_average: its weights are saved under that name.
                setattr(self, f"{name}_average", remedies.ExponentialAverage(getattr(self, name), self.generator_ema, name=f"{name}_average"))
        if self.historical_averaging:
            for group in self.groups:
                setattr(self, f"{group}_history", remedies.HistoricalAverage(self.group_variables(group), name=f"{group}_history"))

    def sampling_network(self, name: str = "generator") -> keras.Model:
        """The network samples come from: its weight average with ``generator_ema``, else the trained one."""
        return getattr(self, f"{name}_average").network if self.generator_ema else getattr(self, name)

    @property
    def sampling_generator(self) -> keras.Model:
        """``sampling_network("generator")``."""
        return self.sampling_network("generator")

    def augment(self, samples, params):
        """DiffAugment of ``samples`` with ``params [B, AUGMENT_PARAMS]``; the identity without a policy or params."""
        if not self.augment_policy or params is None:
            return samples
        return remedies.diff_augment(samples, params, self.augment_policy)

    def augment_params(self, batch_size, index: int, training: bool, which=("real", "fake")) -> dict:
        """``{"augment_<which>": uniform [B, AUGMENT_PARAMS]}`` for update ``index``; ``{}`` without DiffAugment."""
        if not self.augment_policy:
            return {}
        offsets = {"real": 0, "fake": 1}
        return {
            f"augment_{name}": self.uniform_noise(
                batch_size, (remedies.AUGMENT_PARAMS,), stream("augment", 2 * index + offsets[name]), training
            )
            for name in which
        }

    def update_averages(self):
        """Folds this step's weights into the generator EMA and the historical averages (those enabled)."""
        variables, values = [], []
        if self.generator_ema:
            for name in self.groups.get("generator", ()):
                average = getattr(self, f"{name}_average")
                variables += [mine for mine, _, _ in average.pairs()]
                values += average.new_values(self.train_steps)
        if self.historical_averaging:
            for group in self.groups:
                history = getattr(self, f"{group}_history")
                variables += history.averages
                values += history.new_averages(self.train_steps)
        if variables:
            self.assign_replicated(variables, values)

    # ------------------------------------------------------------------ seams

    def generate_batch(self, noise, condition=None, training=True, network: str = "generator"):
        """A generator's forward pass in training: ``network(noise)`` or ``network([noise, condition])``."""
        generator = getattr(self, network)
        return generator(noise if condition is None else [noise, condition], training=training)

    def discriminator_view(self, samples, condition=None, augment=None, network: str = "discriminator"):
        """What ``network`` takes for ``samples``: DiffAugmented (with ``augment`` params), with the condition if it takes two inputs."""
        seen = self.augment(samples, augment)
        return [seen, condition] if len(getattr(self, network).inputs) == 2 else seen

    def discriminate(self, samples, condition=None, augment=None, training=True, network: str = "discriminator"):
        """A discriminator's outputs on ``samples`` (DiffAugmented with ``augment`` params, if given).

        The condition is passed when the network takes two inputs
        (``[samples, condition]``). Returns ``(logits, auxiliary_logits or
        None)`` in float32: a second output (an AC-GAN class head, StarGAN's
        domain head) is the auxiliary one.
        """
        outputs = self.call_network(network, self.discriminator_view(samples, condition, augment, network), training)
        if isinstance(outputs, (list, tuple)):
            return tf.cast(outputs[0], tf.float32), tf.cast(outputs[1], tf.float32)
        return tf.cast(outputs, tf.float32), None

    def call_network(self, name: str, inputs, training=True):
        """``getattr(self, name)(inputs, training=training)``, with the weights `substituted_weights` put in place, if any.

        The one place the adversarial losses call a discriminator through
        (`discriminate`), so a loss can be evaluated against other values of
        its weights (`GAN`'s unrolled discriminator) without touching the
        network's variables.
        """
        network = getattr(self, name)
        weights = self._substituted.get(name)
        if weights is None:
            return network(inputs, training=training)
        # The non-trainable state (batch-norm statistics) is read as it is; its updates are dropped.
        frozen = [tf.convert_to_tensor(v) for v in network.non_trainable_variables]
        outputs, _ = network.stateless_call(weights, frozen, inputs, training=training)
        return outputs

    @contextlib.contextmanager
    def substituted_weights(self, name: str, weights):
        """Within the block, `call_network` runs network ``name`` with ``weights`` (tensors, one per trainable variable)."""
        network = getattr(self, name)
        if len(weights) != len(network.trainable_variables):
            raise ValueError(f"{name} has {len(network.trainable_variables)} trainable variables; got {len(weights)} values.")
        self._substituted[name] = list(weights)
        try:
            yield
        finally:
            del self._substituted[name]

    @staticmethod
    def weighted_terms(loss, extras: dict, **terms):
        """Adds extra loss terms in one place: ``name=(weight, compute)`` for each.

        A term whose weight is 0 is not computed; otherwise ``compute()`` (a
        float32 scalar) is logged unweighted as ``extras[name]`` and
        ``weight * value`` is added to ``loss``. Returns ``(loss, extras)``.
        """
        extras = dict(extras)
        for name, (weight, compute) in terms.items():
            if weight:
                value = compute()
                extras[name] = value
                loss = loss + weight * value
        return loss, extras

    # ------------------------------------------------------------------ the step

    def phase_function(self, phase: Phase, kind: str):
        """The model's ``<phase name>_<kind>`` method (kind ``"inputs"`` or ``"loss"``).

        A model whose phases are made per instance (`LapGAN`: one pair per
        pyramid level) overrides this instead of defining a method per phase.
        """
        return getattr(self, f"{phase.name}_{kind}")

    def phase_loss(self, phase: Phase, minibatch, inputs, training: bool = True):
        """``<name>_loss`` of a phase, plus the historical-averaging penalty of each group in training."""
        loss, extras = self.phase_function(phase, "loss")(minibatch, inputs, training=training)
        if training and self.historical_averaging:
            if isinstance(loss, dict):
                loss = {g: l + self.historical_averaging * getattr(self, f"{g}_history").penalty() for g, l in loss.items()}
            else:
                loss = loss + self.historical_averaging * tf.add_n([getattr(self, f"{g}_history").penalty() for g in phase.groups])
        return loss, extras

    def run_phase(self, phase: Phase, loss_fn):
        """One update of ``phase``'s groups on ``loss_fn()``; returns ``(loss, extras)`` (a model may override it)."""
        return self.minimize_groups(phase.groups, loss_fn)

    def after_update(self, phase: Phase) -> None:
        """Runs after every update of ``phase`` (none here; `WGAN` clips the critic)."""

    def _track(self, phase: Phase, loss, extras):
        values = {name: value for name, value in extras.items() if name in self.trackers}
        if phase.metric and not isinstance(loss, dict):
            values[phase.metric] = loss
        self.update_trackers(**values)

    def update(self, phase, minibatch, index: int = 0, state: dict | None = None):
        """One update of ``phase`` (a `Phase` or a phase name) on ``minibatch``; returns ``(loss, extras)``.

        What `train_step` runs for each repetition of each phase; callable on
        its own (in a `tf.function` or eagerly) to test or drive one phase.
        """
        if isinstance(phase, str):
            found = [p for p in self.phases() if p.name == phase]
            if not found:
                raise ValueError(f"{type(self).__name__} has no phase {phase!r}; its phases: {[p.name for p in self.phases()]}.")
            phase = found[0]
        inputs = self.phase_function(phase, "inputs")(minibatch, index, {} if state is None else state, training=True)
        loss, extras = self.run_phase(phase, lambda: self.phase_loss(phase, minibatch, inputs, training=True))
        self.after_update(phase)
        return loss, extras

    def train_step(self, data):
        batch, passed = self._checked(self.unpack_batch(data), training=True)
        minibatches = self.split_minibatches(self.prepare_batch(batch))
        k = len(minibatches)
        state = {}  # Extras of earlier updates of this step, for later phases.
        with self.atomic_float16_step():
            index = 0
            for phase in self.phases():
                if phase.repeat > k:
                    raise ValueError(f"Phase {phase.name!r} repeats {phase.repeat} times but a step has {k} minibatches.")
                for r in range(phase.repeat):
                    loss, extras = self.update(phase, minibatches[k - phase.repeat + r], index, state)
                    self._track(phase, loss, extras)
                    state.update(extras)
                    index += 1
            self.update_averages()
        with tf.control_dependencies([passed]):
            self.train_steps.assign_add(1)
        return self.tracker_results()

    def test_step(self, data):
        """Every phase's loss once on the whole batch, no update (update index 0: shared noise)."""
        batch, passed = self._checked(self.unpack_batch(data), training=False)
        batch = self.prepare_batch(batch)
        state = {}
        for phase in self.phases():
            inputs = self.phase_function(phase, "inputs")(batch, 0, state, training=False)
            loss, extras = self.phase_loss(phase, batch, inputs, training=False)
            self._track(phase, loss, extras)
            state.update(extras)
        with tf.control_dependencies([passed]):
            self.eval_steps.assign_add(1)
        return self.tracker_results()

    # ------------------------------------------------------------------ compile

    def compile(
        self,
        generator_optimizer=None,
        discriminator_optimizer=None,
        *,
        optimizers: dict | None = None,
        jit_compile="auto",
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
    ):
        """Configures one optimizer per group.

        Args:
          generator_optimizer: the ``"generator"`` group's optimizer (a
            `keras.optimizers.Optimizer`, its name or its config dict).
          discriminator_optimizer: likewise for ``"discriminator"``.
          optimizers: ``{group: optimizer}`` for any groups (e.g. ``"encoder"``).
            Groups given nowhere get the model's paper's (`default_optimizers`).
          jit_compile: ``True``, ``False`` or ``"auto"``: compile each
            update's loss-and-gradient computation with XLA (see
            `minimize_groups`). ``"auto"`` turns XLA on where a GPU or TPU is
            visible and off on CPUs, where bench/throughput.py measured it at
            0.3x-1.1x the plain speed depending on the model and policy.
          run_eagerly: passed to `keras.Model.compile`.
          steps_per_execution: passed to `keras.Model.compile`.
        """
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto'; got {jit_compile!r}.")
        chosen = dict(optimizers or {})
        for group, given in (("generator", generator_optimizer), ("discriminator", discriminator_optimizer)):
            if given is not None:
                if group in chosen:
                    raise ValueError(f"The {group} optimizer is given twice (as {group}_optimizer and in optimizers).")
                chosen[group] = given
        unknown = sorted(set(chosen) - set(self.groups))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no optimizer group(s) {unknown}; its groups: {list(self.groups)}.")
        if jit_compile == "auto":
            jit_compile = bool(tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))
        #: Whether updates compile their loss-and-gradient computation with XLA.
        self.xla_gradients = bool(jit_compile) and not run_eagerly
        # optimizer=None: Keras must not create (and build over *all* variables)
        # an optimizer of its own. Keras' own jit_compile compiles the whole
        # train_step, optimizer updates included, which fails under
        # MirroredStrategy (docs/design.md, pitfalls); kgan compiles the
        # per-replica gradient computation instead.
        super().compile(optimizer=None, jit_compile=False, run_eagerly=run_eagerly, steps_per_execution=steps_per_execution)
        defaults = self.default_optimizers()
        if not isinstance(defaults, dict):
            defaults = dict(zip(self.groups, defaults))
        for group in self.groups:
            name = f"{group}_optimizer"
            setattr(self, name, self._prepare_optimizer(chosen.get(group) or defaults[group], self.group_variables(group), name))

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

    # ------------------------------------------------------------------ config

    def get_config(self):
        """The networks (serialized) and every option of the base; subclasses add their own keys."""
        return {
            **{name: keras.saving.serialize_keras_object(getattr(self, name)) for name in self.network_names()},
            "seed": self.seed,
            "generator_ema": self.generator_ema,
            "historical_averaging": self.historical_averaging,
            "diff_augment": ",".join(self.augment_policy),
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in cls.network_names():
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    def get_compile_config(self):
        if not self.group_optimizers:
            return None
        return {
            "optimizers": {g: keras.saving.serialize_keras_object(o) for g, o in self.group_optimizers.items()},
            "jit_compile": self.xla_gradients,
        }

    def compile_from_config(self, config):
        # Keras skips custom compile() on load; ours is replayed so that the
        # optimizers exist (and are built) before their state is restored.
        if "optimizers" in config:
            optimizers = {g: keras.saving.deserialize_keras_object(o) for g, o in config["optimizers"].items()}
        else:  # Written before optimizer groups (kgan <= 0.1.0 checkpoints and .keras files).
            optimizers = {
                g: keras.saving.deserialize_keras_object(config[f"{g}_optimizer"])
                for g in ("generator", "discriminator") if config.get(f"{g}_optimizer")
            }
        self.compile(optimizers=optimizers, jit_compile=config.get("jit_compile", False))


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
        """One step of ``optimizer`` on ``loss_fn()`` w.r.t. ``variables``; returns ``(loss, extras)``.

        ``loss_fn``: zero-argument callable returning ``(loss, extras)``: a
        float32 scalar (the mean over this replica's batch) and a dict of
        extra tensors to hand back. See `minimize_groups`.
        """
        return self._minimize([optimizer], loss_fn, [list(variables)], None)

    def minimize_groups(self, groups, loss_fn):
        """One update of every optimizer group in ``groups`` on ``loss_fn()``.

        Args:
          groups: group names (`groups`).
          loss_fn: zero-argument callable returning ``(loss, extras)``:
            ``loss`` a float32 scalar (the mean over this replica's batch)
            that every group descends, or ``{group: scalar}``, one loss per
            group (a simultaneous step); ``extras`` a dict of tensors to hand back.

        Returns:
          ``(loss, extras)`` as computed before the update.
        """
        groups = tuple(groups)
        optimizers = [getattr(self, f"{g}_optimizer") for g in groups]
        return self._minimize(optimizers, loss_fn, [list(self.group_variables(g)) for g in groups], groups)

    def _minimize(self, optimizers, loss_fn, variable_lists, groups):
        _, num_replicas = replica_info()

        def loss_and_gradients():
            with tf.GradientTape(persistent=len(optimizers) > 1) as tape:
                loss, extras = loss_fn()
                losses = [loss[g] for g in groups] if isinstance(loss, dict) else [loss] * len(optimizers)
                # Gradients are summed across replicas: divide the replica mean so the
                # sum equals the gradient of the global-batch mean.
                scaled = [o.scale_loss(l / num_replicas) for o, l in zip(optimizers, losses)]
            return loss, extras, [tape.gradient(s, v) for s, v in zip(scaled, variable_lists)]

        if self.xla_gradients:
            # One XLA cluster per update and replica; the optimizer updates
            # (and any cross-replica sum) stay outside it.
            loss, extras, gradient_lists = tf.function(loss_and_gradients, jit_compile=True)()
        else:
            loss, extras, gradient_lists = loss_and_gradients()
        for optimizer, gradients, variables in zip(optimizers, gradient_lists, variable_lists):
            self.apply_gradients(optimizer, gradients, variables)
        return loss, extras

    def apply_gradients(self, optimizer, gradients, variables):
        """``optimizer``'s update with ``gradients`` (of its scaled loss); under float16, skipped after an overflow this step."""
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            gradients = self._skip_after_overflow(gradients)
        optimizer.apply_gradients(zip(gradients, variables))

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
        optimizers = list(self.group_optimizers.values())
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

        k is the model's `minibatches_per_step` (``discriminator_steps``; 1 without it).

        A tuple batch such as ``(images, labels)`` is split alike, element by
        element, so minibatch j holds the labels of its own images.

        Under `tf.distribute` the split is of the *global* batch: minibatch j
        is rows ``[j*M, (j+1)*M)`` of the concatenated replica batches (M =
        global batch // k), and each replica trains on its share of it, so N
        replicas run the k steps one device would. This gathers the batch
        across replicas once per step and needs M divisible by N.
        """
        k = self.minibatches_per_step
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

    def fit(self, x=None, y=None, callbacks=None, **kwargs):
        """`keras.Model.fit`, after checking the first batch with `check_batch`, with every batch and loss watched.

        Bad input (wrong rank, channels or value range) fails here, before any
        step runs, with a message that says how to fix it. Every step also
        checks its batch's values in the graph (`batch_value_checks`): a bad
        example later in the data raises `kgan.data.graph_checks.BadBatchError`
        naming the step, before that step updates anything. Unless
        ``callbacks`` holds a `kgan.callbacks.DivergenceGuard` already, one is
        added: a non-finite loss or weight stops training and raises
        `kgan.callbacks.DivergenceError` once `fit`'s callbacks have finished
        (`kgan.callbacks.TrainingCheckpoint` never writes a non-finite state).
        """
        from kgan.callbacks import divergence_guard  # The callbacks import the models' package.

        if not self.group_optimizers:
            raise RuntimeError("Call model.compile(...) before fit(); compile() with no arguments uses the paper's optimizers.")
        batch = self._first_batch(x)
        if batch is not None:
            self.check_batch(batch if y is None else (batch, y[:256]))
        callbacks = list(callbacks or [])
        guard = next((c for c in callbacks if isinstance(c, divergence_guard.DivergenceGuard)), None)
        if guard is None:
            guard = divergence_guard.DivergenceGuard()
            callbacks.insert(0, guard)  # First: it stops training before the others act on the step.
        with self._batch_errors():
            history = super().fit(x, y, callbacks=callbacks, **kwargs)
        guard.raise_if_diverged()
        return history

    def evaluate(self, x=None, y=None, **kwargs):
        """`keras.Model.evaluate` with the same input checks as `fit` (first batch, then every batch in the graph)."""
        batch = self._first_batch(x)
        if batch is not None:
            self.check_batch(batch if y is None else (batch, y[:256]))
        with self._batch_errors():
            return super().evaluate(x, y, **kwargs)

    @contextlib.contextmanager
    def _batch_errors(self):
        """Turns the in-graph batch check's TensorFlow error into its `BadBatchError` (the message, no graph dump)."""
        try:
            yield
        except tf.errors.InvalidArgumentError as error:
            bad = graph_checks.bad_batch_error(error)
            if bad is None:
                raise
            raise bad from None

    @staticmethod
    def unpack_batch(data):
        """Keras hands ``train_step`` ``(x,)`` for ``fit(x)``; return ``x`` itself."""
        if isinstance(data, (tuple, list)) and len(data) == 1:
            return data[0]
        return data
