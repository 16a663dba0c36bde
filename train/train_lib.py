"""What every training binary does around its model: data, resume, fit, samples, export.

A binary supplies its model's `kgan.registry.ModelSpec` (or a ``build_model(config,
shapes) -> compiled model``) and calls `train` (through `main_for`). Models that
do not draw from a latent space (CycleGAN, StarGAN) also pass their own
``make_dataset``, ``steps_per_epoch`` and ``make_picture`` (a
`kgan.callbacks.GridCallback` factory) in a `Recipe`; the defaults serve
`GAN`-like models. The trainer asks the model how many examples a step reads
(``examples_per_step``) and how often each optimizer steps (``updates_per_step``). The run directory (``config.model_dir``) holds::

    config.json        the config of the latest start (differences are logged on resume)
    checkpoints/       TrainingCheckpoint: ckpt-<train_steps>/ + latest
    samples/           epoch_0001.png, ..., final.png
    logs/              TensorBoard: train/ (epoch metrics), samples/ (grids)
    export.json        where the last export went, at which train step, and its per-request cap (max_batch_size)
    summary.json       the end-of-run summary printed by the binary (steps, speed, repairs, evaluation)
    .lock              held while a process trains here (kgan.saving.RunLock): one writer per run

Faults: a second training in the same directory exits at once naming the
first (`kgan.saving.RunLock`); a checkpoint that does not load is moved into
``checkpoints/damaged/`` and its step is written again when training gets
there (`kgan.saving.restore_latest`); a bad batch or a divergence stops the
run with a message naming the step, and nothing non-finite is checkpointed or
exported (``--on_divergence=rollback`` instead restores the last finite
checkpoint and lowers the learning rates); the summary lists every repair.

Resuming: a killed run started again with the same flags continues from its
newest checkpoint. A checkpoint taken at step s of an epoch of E steps is
followed by a `fit` over the remaining E - s steps of that epoch, then by the
remaining epochs, so the run ends after exactly ``epochs * E`` train steps, as
an uninterrupted one does. The training noise depends only on the seed and the
step, so it continues exactly; the data stream of each `fit` call is shuffled
with ``seed + <step the call starts at>``, so a resumed run does not replay
the batches the run began with (its data order differs from an uninterrupted
run's).
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import sys
import time

import keras
from absl import logging

from kgan import atomic_files, distribute, registry, rendering, saving, serving
from kgan import callbacks as kgan_callbacks
from kgan import data as kgan_data
from kgan import export as kgan_export
from kgan.data import mixtures
from kgan.data.graph_checks import BadBatchError
from kgan.schedules import ConstantThenLinearDecay

CHECKPOINTS = "checkpoints"
SAMPLES = "samples"
LOGS = "logs"


def steps_per_epoch(config, examples_per_step: int) -> int:
    """``config.steps_per_epoch``, or the number of full steps (of ``examples_per_step``) in one pass over the split."""
    if config.steps_per_epoch:
        return config.steps_per_epoch
    splits = kgan_data.dataset_info(config.dataset, **config.data_options()).splits
    if config.split not in splits:
        raise ValueError(f"The size of split {config.split!r} is unknown here: set --steps_per_epoch.")
    examples = min(splits[config.split], config.limit or splits[config.split])
    steps = examples // examples_per_step
    if steps < 1:
        raise ValueError(
            f"{examples} examples make no train step of {examples_per_step} examples "
            f"(batch_size x the model's minibatches per step): lower --batch_size or raise --limit."
        )
    return steps


def make_dataset(config, seed: int, batch_size: int):
    """The endless stream of training batches of ``batch_size`` examples (what one train step consumes).

    Configs with a true ``with_labels`` attribute (`kgan.configs.ConditionalGANConfig`)
    get ``(samples, labels int32 [B])`` batches: class labels, or a mixture's mode index.
    """
    with_labels = bool(getattr(config, "with_labels", False))
    if config.is_points:
        return mixtures.gaussian_mixture(config.dataset).dataset(batch_size, seed=seed, with_labels=with_labels)
    return kgan_data.load_images(
        config.dataset,
        config.split,
        batch_size,
        **config.data_options(),
        limit=config.limit,
        shuffle=True,
        repeat=True,  # steps_per_epoch, not the data size, delimits epochs.
        seed=seed,
        with_labels=with_labels,
    )


def sample_shape(dataset) -> tuple:
    """Per-example shape of the dataset's batches (of their samples, for ``(samples, labels)``), e.g. ``(28, 28, 1)``."""
    spec = dataset.element_spec
    if isinstance(spec, tuple):
        spec = spec[0]
    return tuple(spec.shape[1:])


def describe_data(config):
    """What the run trains on, for ``data.json``, the summary and the export, or None for point mixtures.

    For user sources this is where the data is checked (folders: every file's
    header), before any model is built.
    """
    if getattr(config, "is_points", False):
        return None
    return data_report(kgan_data.dataset_info(config.dataset, **config.data_options()))


def data_report(info) -> dict:
    """A JSON-ready description of a `kgan.data.ImageDatasetInfo`: source, shapes, splits, classes, skipped files."""
    return {
        "dataset": info.name,
        "image_shape": list(info.image_shape),
        "splits": dict(info.splits),
        "class_names": list(info.class_names),
        "skipped_files": len(info.skipped),
        "skipped": [{"path": path, "reason": reason} for path, reason in info.skipped[:_LISTED_SKIPPED_FILES]],
    }


_LISTED_SKIPPED_FILES = 1000


def _announce_skipped(report, model_dir) -> None:
    if not report or not report["skipped_files"]:
        return
    shown = "; ".join(f"{e['path']} ({e['reason']})" for e in report["skipped"][:5])
    more = f"; and {report['skipped_files'] - 5} more" if report["skipped_files"] > 5 else ""
    print(f"kgan: skipping {report['skipped_files']} unusable image file(s) of {report['dataset']}: {shown}{more} "
          f"(listed in {os.path.join(model_dir, 'data.json')}; --on_bad_image=stop refuses to start instead).", flush=True)


def learning_rates(config, model) -> dict:
    """``{group: rate}``: floats, or linear-decay schedules.

    A group's rate is ``config.<group>_learning_rate`` (groups without their
    own field use the generator's). With ``learning_rate_decay_start`` set,
    each rate decays linearly over its own optimizer's updates: a group the
    model updates n times per train step (`AdversarialModel.updates_per_step`)
    has a schedule n times as long.
    """
    rates = {g: getattr(config, f"{g}_learning_rate", config.generator_learning_rate) for g in model.groups}
    if config.learning_rate_decay_start is None:
        return rates
    train_steps = config.epochs * steps_per_epoch(config, model.examples_per_step(config.batch_size))
    updates = model.updates_per_step()
    schedules = {}
    for group, rate in rates.items():
        total = train_steps * max(updates[group], 1)  # A group no phase updates (LapGAN's untrained levels) keeps its rate.
        schedules[group] = ConstantThenLinearDecay(
            rate, total, int(config.learning_rate_decay_start * total), config.learning_rate_final_fraction
        )
    return schedules


def make_optimizers(config, model) -> dict:
    """``{group: optimizer}`` for every optimizer group of ``model``, from the config.

    Adam with the config's rates (or schedules, see `learning_rates`) and
    betas, or RMSProp (WGAN with weight clipping) when the config has
    ``optimizer="rmsprop"``.
    """
    rates = learning_rates(config, model)
    if getattr(config, "optimizer", "adam") == "rmsprop":
        return {g: keras.optimizers.RMSprop(rate) for g, rate in rates.items()}
    return {g: keras.optimizers.Adam(rate, beta_1=config.beta_1, beta_2=config.beta_2) for g, rate in rates.items()}


def build_compiled(spec, config, shapes):
    """The registry entry's model for ``config`` and the data's ``shapes``, compiled with the config's optimizers."""
    model = spec.build(config, shapes)
    model.compile(optimizers=make_optimizers(config, model), jit_compile=config.jit_compile_option)
    return model


def _write_json(path, payload):
    atomic_files.write_text(path, json.dumps(payload, indent=1, sort_keys=True))


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _record_config(config, model_dir):
    """Writes config.json; on resume, logs which fields changed since the last start."""
    path = os.path.join(model_dir, "config.json")
    current = json.loads(json.dumps(dataclasses.asdict(config)))  # Tuples -> lists, as stored.
    previous = _read_json(path)
    if previous:
        changed = sorted(k for k in current if previous.get(k) != current[k])
        if changed:
            logging.warning("Config differs from the previous start in %s: %s", model_dir, ", ".join(changed))
    _write_json(path, current)


def _check_fresh_start(config, checkpoint_dir):
    if not config.resume and kgan_callbacks.list_checkpoints(checkpoint_dir):
        raise ValueError(
            f"{checkpoint_dir} holds checkpoints of an earlier run and --noresume was given: "
            "pass --resume to continue it, or use a new --model_dir (or delete the old one) to start over."
        )


class SetupError(Exception):
    """The run cannot start (bad data settings, foreign checkpoints, ...); the message says how to fix it."""


def picture_options(config) -> dict:
    """Where and how often a run's progress pictures go: the `kgan.callbacks.GridCallback` arguments."""
    return dict(
        directory=os.path.join(config.model_dir, SAMPLES),
        every_n_epochs=config.sample_every_n_epochs,
        tensorboard_dir=os.path.join(config.model_dir, LOGS, "samples") if config.tensorboard else None,
    )


def sample_grid(config, dataset):
    """The progress picture of latent-variable models: a `kgan.callbacks.SampleGrid` under ``model_dir``."""
    del dataset  # Samples come from fixed latent vectors, not from data.
    return kgan_callbacks.SampleGrid(num_samples=config.num_samples, seed=config.seed, **picture_options(config))


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a binary turns a config into data, a model and a progress picture.

    Attributes:
      build_model: ``(config, shapes) -> compiled model``; a `kgan.registry.ModelSpec`
        stands for `build_compiled` with it.
      make_dataset: ``(config, seed, batch_size) -> endless tf.data.Dataset`` of
        training batches of ``batch_size`` examples.
      steps_per_epoch: ``(config, examples_per_step) -> int``.
      make_picture: ``(config, dataset) -> kgan.callbacks.GridCallback``.
      sample_shape: ``dataset -> shape`` handed to ``build_model``.
      evaluate: ``(config, model) -> (dict, str)``, run after training:
        numbers for the summary's ``"evaluation"`` and a text table to print
        (default: `evaluate_samples`).
      describe_data: ``config -> dict or None``, the data report of
        ``data.json`` (default: `describe_data`, for the default
        ``make_dataset``; a recipe with its own ``make_dataset`` and no
        ``describe_data`` writes no report).
    """

    build_model: object
    make_dataset: object = make_dataset
    steps_per_epoch: object = steps_per_epoch
    make_picture: object = sample_grid
    sample_shape: object = sample_shape
    evaluate: object = None
    describe_data: object = describe_data


@dataclasses.dataclass
class Run:
    """A model ready to train: built, compiled and restored from ``model_dir``."""

    config: object
    model: keras.Model
    dataset: object  # The stream for a run that starts at step 0.
    steps_per_epoch: int
    resume_metadata: dict | None
    recipe: Recipe
    examples_per_step: int  # What one train step reads: the model's answer for config.batch_size.
    lock: object = None  # The run directory's kgan.saving.RunLock (the chief's), held until `train` ends.
    data: dict | None = None  # The data report (`describe_data`): data.json, the summary and the export's metadata.
    repairs: list = dataclasses.field(default_factory=list)  # What was found broken and fixed, for the summary.

    def make_dataset(self, seed: int):
        """The training stream for ``seed`` (batches of `examples_per_step`)."""
        return self.recipe.make_dataset(self.config, seed, self.examples_per_step)


def _recipe(build_model_or_recipe) -> Recipe:
    recipe = build_model_or_recipe if isinstance(build_model_or_recipe, Recipe) else Recipe(build_model_or_recipe)
    if recipe.make_dataset is not make_dataset and recipe.describe_data is describe_data:
        # The default report describes the default data (a load_images source); other data brings its own or none.
        recipe = dataclasses.replace(recipe, describe_data=None)
    if isinstance(recipe.build_model, registry.ModelSpec):
        spec = recipe.build_model
        recipe = dataclasses.replace(recipe, build_model=lambda config, shapes: build_compiled(spec, config, shapes))
    return recipe


def setup(config, build_model) -> Run:
    """Builds data and model and restores the latest checkpoint, before any training.

    Raises:
      SetupError: for problems the user fixes with flags or files (unknown
        split size, data not available, checkpoints of another architecture,
        --noresume over existing checkpoints).
    """
    recipe = _recipe(build_model)
    checkpoint_dir = os.path.join(config.model_dir, CHECKPOINTS)
    lock = None
    try:
        # The policy must be set before the networks are built; the model and
        # its optimizers are created inside the strategy's scope.
        distribute.set_precision(config.mixed_precision)
        strategy = distribute.make_strategy(config.strategy)
        chief = strategy.extended.should_checkpoint
        if chief:  # Before anything is read or written: the run directory is ours.
            lock = _lock_run_directory(config.model_dir)
        _check_fresh_start(config, checkpoint_dir)
        if config.export and chief:  # A read-only export directory fails now, not after training.
            kgan_export.check_export_dir(config.export_dir)
        # The data is checked before anything is built (folders: headers and file ends, seconds for 100k files).
        data = recipe.describe_data(config) if recipe.describe_data is not None else None
        # Network initialisation is reproducible too (resumed runs overwrite it).
        keras.utils.set_random_seed(config.seed)
        # A first stream tells the data's shapes; the model then says how many
        # examples a step reads (batch_size x its minibatches per step).
        first_stream = recipe.make_dataset(config, config.seed, config.batch_size)
        shapes = recipe.sample_shape(first_stream)
        with strategy.scope():
            model = recipe.build_model(config, shapes)
            examples = model.examples_per_step(config.batch_size)
            epoch_steps = recipe.steps_per_epoch(config, examples)
            # Only the chief moves damaged checkpoints aside (workers may share the directory).
            metadata = kgan_callbacks.restore_latest(model, checkpoint_dir, repair=chief) if config.resume else None
        # Models that read one minibatch per step train on the first stream itself.
        dataset = first_stream if examples == config.batch_size else recipe.make_dataset(config, config.seed, examples)
    except BaseException as error:
        if lock is not None:  # Whatever stops the setup, the run directory is free again.
            lock.release()
        if isinstance(error, (ValueError, OSError, kgan_data.DatasetNotPreparedError, saving.RunDirectoryInUse)):
            raise SetupError(str(error)) from error
        raise
    repairs = [{"kind": "damaged_checkpoint_moved_aside", **entry} for entry in (metadata or {}).get("repaired", [])]
    for repair in repairs:
        print(f"kgan: checkpoint {repair['checkpoint']} did not load ({repair['error']}); moved to {repair['moved_to']}, "
              "its step is checkpointed again when training reaches it.", flush=True)
    if is_chief(model):  # Under multi-worker training only the chief writes run files.
        os.makedirs(config.model_dir, exist_ok=True)
        _record_config(config, config.model_dir)
        if data is not None:
            _write_json(os.path.join(config.model_dir, "data.json"), data)
    _announce_skipped(data, config.model_dir)
    return Run(config, model, dataset, epoch_steps, metadata, recipe, examples, lock=lock, repairs=repairs, data=data)


def _lock_run_directory(model_dir):
    """The run directory's `kgan.saving.RunLock`, taken (raises `kgan.saving.RunDirectoryInUse`)."""
    lock = saving.RunLock(model_dir).acquire()
    if lock.previous_holder:
        logging.warning("Took over the lock of %s: process %s is no longer running.", model_dir, lock.previous_holder.get("pid"))
    return lock


def is_chief(model) -> bool:
    """Whether this process writes the run's files (always, except on non-chief workers)."""
    return model.distribute_strategy.extended.should_checkpoint


def train(config, build_model) -> dict:
    """Trains (or resumes) a run, writes sample grids, exports; returns a summary dict.

    Args:
      config: a checked `kgan.configs.GANConfig` (or a config with the same
        data/output fields).
      build_model: a `Recipe`, a `kgan.registry.ModelSpec`, or ``(config,
        shapes) -> compiled model`` (a `Recipe` with the default data and
        picture functions).

    Raises:
      SetupError: see `setup`; raised before any training step.
    """
    start_time = time.time()
    run = setup(config, build_model)
    try:
        return _train(run, start_time)
    finally:
        if run.lock is not None:
            run.lock.release()


def _train(run, start_time) -> dict:
    config = run.config
    model, epoch_steps, metadata = run.model, run.steps_per_epoch, run.resume_metadata
    total_steps = config.epochs * epoch_steps
    start_step = int(model.train_steps.numpy())
    if metadata:
        print(f"kgan: resumed from {metadata['path']} at train step {start_step} of {total_steps}.", flush=True)
    if start_step > total_steps:
        logging.warning("The checkpoint is at step %d, beyond epochs * steps_per_epoch = %d: not training.", start_step, total_steps)

    callbacks, grid = make_callbacks(run)
    fit_seconds = fit_remaining_epochs(run, callbacks)

    end_step = int(model.train_steps.numpy())
    grid.set_model(model)
    final_grid = grid.write(os.path.join(config.model_dir, SAMPLES, "final.png"))
    export_path = _export(config, model, end_step, trained=end_step != start_step, data=run.data) if is_chief(model) else None
    for callback in callbacks:
        if isinstance(callback, kgan_callbacks.TrainingCheckpoint):
            run.repairs += [{"kind": "non_finite_checkpoint_refused", **entry} for entry in callback.refused]

    steps_run = end_step - start_step
    summary = {
        "start_step": start_step,
        "train_steps": end_step,
        "total_steps": total_steps,
        "optimizer_iterations": {g: int(o.iterations.numpy()) for g, o in model.group_optimizers.items()},
        "wall_seconds": time.time() - start_time,
        "steps_per_second": steps_run / fit_seconds if fit_seconds else 0.0,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "final_grid": final_grid,
        "export_path": export_path,
        "replicas": int(model.distribute_strategy.num_replicas_in_sync),
        "dtype_policy": keras.mixed_precision.global_policy().name,
        "xla": bool(model.xla_gradients),
        "checkpoint_dir": os.path.join(config.model_dir, CHECKPOINTS),
        "repairs": run.repairs,
    }
    if run.data is not None:
        summary["data"] = {k: v for k, v in run.data.items() if k != "skipped"}  # The file list stays in data.json.
    print(format_summary(summary), flush=True)
    evaluate = run.recipe.evaluate or evaluate_samples
    summary["evaluation"], table = evaluate(config, model)
    print(table, flush=True)
    if is_chief(model):
        atomic_files.write_text(
            os.path.join(config.model_dir, "summary.json"), json.dumps(summary, indent=1, sort_keys=True, default=_json_value)
        )
    return summary


def _json_value(value):
    """numpy scalars and arrays in the summary (evaluation tables) as plain JSON."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def make_callbacks(run: Run):
    """``(callbacks, picture)``: checkpoints, progress pictures and TensorBoard logs under ``model_dir``."""
    config = run.config
    grid = run.recipe.make_picture(config, run.dataset)
    checkpoint = kgan_callbacks.TrainingCheckpoint(
        os.path.join(config.model_dir, CHECKPOINTS),
        save_every_n_steps=config.checkpoint_every_n_steps or None,
        keep=config.keep_checkpoints,
        steps_per_epoch=run.steps_per_epoch,
        resume_metadata=run.resume_metadata,
    )
    callbacks = [checkpoint, grid]
    if getattr(config, "quality_every_n_epochs", None):
        callbacks.append(_quality_evaluation(config, run.model))
    if config.tensorboard and is_chief(run.model):
        if kgan_callbacks.tensorboard_available():
            callbacks.append(keras.callbacks.TensorBoard(os.path.join(config.model_dir, LOGS), write_graph=False))
        else:
            logging.warning("No TensorBoard logs: `pip install tensorboard`, or pass --notensorboard to silence this.")
    return callbacks, grid


def _quality_evaluation(config, model):
    """`kgan.callbacks.QualityEvaluation` of ``--quality_every_n_epochs``: KID against the test split of the training data.

    Own data without a test split (a flat folder) is refused by the callback's first evaluation; see
    `evaluate_samples` for the end-of-run evaluation, which falls back to the training split.
    """
    if not callable(getattr(model, "sampling_inputs", None)) or len(getattr(model, "sample_shape", ())) != 3:
        raise SetupError("--quality_every_n_epochs evaluates image generators (GAN, WGAN-GP, conditional GAN) only.")
    return kgan_callbacks.QualityEvaluation(
        config.dataset, "test", every_n_epochs=config.quality_every_n_epochs, num_samples=config.quality_num_samples,
        num_real=config.quality_num_samples, features=config.quality_features, metrics=("kid",),
        tensorboard_dir=os.path.join(config.model_dir, LOGS, "quality") if config.tensorboard else None,
        data_dir=config.data_dir, data_options=config.data_options(),  # The test split, read as training reads.
    )


def fit_remaining_epochs(run: Run, callbacks) -> float:
    """Trains from the model's current step to ``epochs * steps_per_epoch``; returns seconds spent in `fit`.

    A run restored mid-epoch (step s of E) first fits the E - s steps left in
    that epoch, then the remaining epochs, so the step count ends exactly at
    ``epochs * E``.
    """
    config, model, epoch_steps = run.config, run.model, run.steps_per_epoch
    verbose = config.verbose if config.verbose is not None else (1 if sys.stdout.isatty() else 2)
    fit_seconds = 0.0
    epoch, step_in_epoch = divmod(int(model.train_steps.numpy()), epoch_steps)
    budget = None
    if config.max_train_minutes:
        budget = TimeBudget(config.max_train_minutes * 60)
        callbacks = [*callbacks, budget]
    while epoch < config.epochs:
        fit_steps = epoch_steps - step_in_epoch
        last_epoch = epoch + 1 if step_in_epoch else config.epochs
        if step_in_epoch:
            print(f"kgan: finishing epoch {epoch + 1}/{config.epochs}: {fit_steps} of {epoch_steps} steps left.", flush=True)
        step = int(model.train_steps.numpy())
        fit_start = time.time()
        try:
            model.fit(
                run.dataset if step == 0 else run.make_dataset(config.seed + step),
                initial_epoch=epoch,
                epochs=last_epoch,
                steps_per_epoch=fit_steps,
                callbacks=callbacks,
                verbose=verbose,
                shuffle=False,  # The dataset shuffles itself; Keras would only warn.
            )
        except kgan_callbacks.DivergenceError as error:
            fit_seconds += time.time() - fit_start
            rollbacks = sum(r["kind"] == "rollback" for r in run.repairs)
            if config.on_divergence != "rollback" or rollbacks >= config.max_rollbacks:
                raise _with_checkpoint_advice(error, run, rollbacks) from None
            roll_back(run, callbacks, error)
            epoch, step_in_epoch = divmod(int(model.train_steps.numpy()), epoch_steps)
            continue
        fit_seconds += time.time() - fit_start
        epoch, step_in_epoch = last_epoch, 0
        if budget is not None and budget.exhausted:
            epoch, step_in_epoch = divmod(int(model.train_steps.numpy()), epoch_steps)
            if step_in_epoch:  # Epoch ends checkpoint themselves; a mid-epoch stop is saved here.
                for callback in callbacks:
                    if isinstance(callback, kgan_callbacks.TrainingCheckpoint):
                        callback.save(epoch, step_in_epoch)
            print(f"kgan: time budget of {config.max_train_minutes:g} min used up at train step "
                  f"{int(model.train_steps.numpy())} of {config.epochs * epoch_steps}; run again to continue.", flush=True)
            break
    return fit_seconds


def roll_back(run: Run, callbacks, error) -> None:
    """After a divergence: restores the newest checkpoint (the last finite state) and lowers every learning rate.

    Raises ``error`` (with advice) when there is no checkpoint to go back to.
    """
    config, model = run.config, run.model
    metadata = kgan_callbacks.restore_latest(model, os.path.join(config.model_dir, CHECKPOINTS), repair=is_chief(model))
    if metadata is None:
        raise _with_checkpoint_advice(error, run, 0)
    rates = {}
    for group, optimizer in model.group_optimizers.items():
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        inner.learning_rate = float(inner.learning_rate.numpy()) * config.divergence_learning_rate_factor
        rates[group] = float(inner.learning_rate.numpy())
    for callback in callbacks:
        if isinstance(callback, kgan_callbacks.TrainingCheckpoint):
            callback.resume_from(metadata)
    run.repairs.append({"kind": "rollback", "diverged_at_step": error.step, "restored": metadata["path"],
                        "train_steps": metadata["train_steps"], "learning_rates": rates, "error": str(error)})
    print(f"kgan: {error} Rolled back to {metadata['path']} (step {metadata['train_steps']}); learning rates now "
          + ", ".join(f"{g} {r:.3g}" for g, r in rates.items()) + ".", flush=True)


def _with_checkpoint_advice(error, run, rollbacks):
    """``error`` with what the run directory holds and what to do, for the binary's exit message."""
    found = kgan_callbacks.list_checkpoints(os.path.join(run.config.model_dir, CHECKPOINTS))
    where = (f"The newest checkpoint, {found[-1][1]} (step {found[-1][0]}), is the last finite state; nothing was exported."
             if found else "No checkpoint was written before it; nothing was exported.")
    advice = ("Rerun with lower learning rates, or with --on_divergence=rollback to go back and lower them automatically."
              if run.config.on_divergence != "rollback" else f"{rollbacks} rollback(s) did not help: lower the learning rates further.")
    return kgan_callbacks.DivergenceError(f"{error} {where} {advice}", error.step, error.losses, error.variables)


class TimeBudget(keras.callbacks.Callback):
    """Stops `fit` once ``seconds`` of training have passed (counted over every `fit` it serves)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.used, self.exhausted = seconds, 0.0, False
        self._start = None

    def on_train_begin(self, logs=None):
        self._start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.used + time.time() - self._start >= self.seconds:
            self.exhausted = True
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.used += time.time() - self._start


def evaluate_samples(config, model):
    """The end-of-run evaluation of latent-variable models: ``(numbers, table)``.

    Images: FID, KID, precision/recall and density/coverage (and, for a
    conditional model on labelled data, intra-class FID) of
    ``config.evaluation_samples`` samples against as many images of the
    training data's test split (its training split if it has none), read as
    training read them (`kgan.metrics.evaluate_generator`; features per
    ``--evaluation_features``). Point mixtures: mode coverage
    and high-quality fraction of as many samples (`kgan.metrics.mode_coverage`).
    """
    from kgan.metrics import quality
    from kgan.metrics.features import feature_extractor

    count = config.evaluation_samples
    if not count:
        return {"skipped": "--evaluation_samples=0"}, "kgan: no end-of-run evaluation (--evaluation_samples=0)."
    if config.is_points:
        mixture = mixtures.gaussian_mixture(config.dataset)
        samples = next(quality.generated_batches(model, count, seed=config.seed, batch_size=count))
        coverage = mixture.coverage(samples)
        result = {"modes_covered": coverage.modes_covered, "modes_hit": coverage.modes_hit, "num_modes": coverage.num_modes,
                  "high_quality_fraction": coverage.high_quality_fraction, "reverse_kl": coverage.reverse_kl,
                  "num_samples": count}
        kl = "n/a" if coverage.reverse_kl is None else f"{coverage.reverse_kl:.3f}"
        return result, (f"kgan: {count} samples cover {coverage.modes_covered} of {coverage.num_modes} modes "
                        f"(>= 20 % of their share; {coverage.modes_hit} with any sample); "
                        f"{100 * coverage.high_quality_fraction:.1f} % lie within 3 sigma of a mode; reverse KL {kl}.")
    info = kgan_data.dataset_info(config.dataset, **config.data_options())
    split = "test" if "test" in info.splits else "train"
    features = config.evaluation_features
    if features == "auto":
        features = "classifier" if tuple(info.image_shape) == (28, 28, 1) else "inception"
    if features == "classifier":
        features = feature_extractor("classifier", classifier_dataset=classifier_at_hand(config))
    scores = ["fid", "kid", "precision_recall", "density_coverage"]
    if info.has_labels and quality.generator_classes(model):  # ConditionalGAN on labelled data.
        scores.append("intra_fid")
    report = quality.evaluate_generator(
        model, config.dataset, split, num_samples=count, num_real=count, features=features, metrics=scores,
        seed=config.seed, data_dir=config.data_dir, data_options=config.data_options(),
        kid_subset_size=min(1000, count // 2),
    )
    return report, "kgan: end-of-run evaluation\n" + quality.format_report(report)



def evaluation_with_picture(filename: str, draw, caption):
    """An ``evaluate`` for a `Recipe`: `evaluate_samples`, then a picture of the model into ``samples/<filename>``.

    Args:
      filename: e.g. ``"pyramid.png"``; its stem names the summary key (``"pyramid_picture"``).
      draw: ``(model, seed) -> images [N, H, W, C] in [-1, 1], rows``, laid out as a grid of ``rows`` rows.
      caption: ``model -> str``, what the printed line says the picture shows.
    """

    def evaluate(config, model):
        numbers, table = evaluate_samples(config, model)
        images, rows = draw(model, config.seed)
        path = rendering.save_image_grid(images, os.path.join(config.model_dir, SAMPLES, filename), rows=rows)
        return {**numbers, f"{os.path.splitext(filename)[0]}_picture": path}, f"{table}\nkgan: {caption(model)}: {path}"

    return evaluate


def classifier_at_hand(config) -> str:
    """The evaluation classifier to use: ``config.evaluation_classifier``, or for ``auto`` Fashion-MNIST's
    when cached or trainable offline, else the embedded subset's.

    The embedded subset's (test accuracy 0.87, trained in ~15 s on first use
    and cached) keeps the end of a run offline; the report names which one
    (``features: classifier:<dataset>``), and only numbers of one space compare.
    The smoke presets name it, so a smoke run never trains the full one.
    """
    from kgan.data import offline
    from kgan.metrics import classifier

    if config.evaluation_classifier != "auto":
        return config.evaluation_classifier
    if os.path.exists(classifier.classifier_path("fashion_mnist")) or offline.debian_files_available():
        return "fashion_mnist"
    return "embedded_fashion_mnist"


def _export(config, model, train_steps, trained: bool = True, data=None):
    """Exports unless disabled or this very state was exported already (a re-run of a finished run).

    "This very state": no step was trained in this invocation and export.json
    names this step. A run that retrained up to an exported step (after a
    damaged checkpoint was repaired, say) holds new weights and exports them.
    """
    if not config.export:
        return None
    record_path = os.path.join(config.model_dir, "export.json")
    record = _read_json(record_path)
    if not isinstance(record, dict):
        record = None
    if (not trained and record and record.get("train_steps") == train_steps
            and isinstance(record.get("path"), str) and os.path.isdir(record["path"])):
        logging.info("Step %d was already exported to %s.", train_steps, record["path"])
        return record["path"]
    # Every signature refuses requests of more examples than this; clients read it to split theirs.
    cap = serving.MAX_SAMPLED_IMAGES
    metadata = {"max_batch_size": cap}
    if data is not None:  # Clients map label indices to names with it (assets.extra/kgan.json).
        metadata.update({k: data[k] for k in ("dataset", "image_shape", "class_names", "attributes") if k in data})
    path = kgan_export.export_saved_model(model, config.export_dir, name=config.export_name, metadata=metadata,
                                          max_batch_size=cap)
    _write_json(record_path, {"path": path, "train_steps": train_steps, "max_batch_size": cap})
    return path


def format_summary(summary: dict) -> str:
    """The end-of-run report printed by the binaries."""
    lines = [
        "kgan: training done.",
        f"  train steps      {summary['start_step']} -> {summary['train_steps']} (of {summary['total_steps']})",
        "  optimizer steps  " + ", ".join(f"{g} {n}" for g, n in summary["optimizer_iterations"].items()),
        f"  wall time        {summary['wall_seconds']:.1f} s",
        f"  speed            {summary['steps_per_second']:.2f} steps/s "
        f"({summary['replicas']} replica(s), {summary['dtype_policy']}, XLA {'on' if summary['xla'] else 'off'})",
        f"  peak RSS         {summary['peak_rss_mb']:.0f} MB",
        f"  checkpoints      {summary['checkpoint_dir']}",
        f"  sample grid      {summary['final_grid']}",
        f"  SavedModel       {summary['export_path'] or '(export disabled)'}",
    ]
    for repair in summary.get("repairs", []):
        lines.append(f"  repaired         {_describe_repair(repair)}")
    return "\n".join(lines)


def _describe_repair(repair: dict) -> str:
    kind = repair["kind"]
    if kind == "damaged_checkpoint_moved_aside":
        return f"{repair['checkpoint']} did not load; moved to {repair['moved_to']} and its step written again"
    if kind == "non_finite_checkpoint_refused":
        return f"step {repair['train_steps']} not checkpointed: non-finite {repair['variables'][0]}"
    if kind == "rollback":
        return f"diverged at step {repair['diverged_at_step']}; rolled back to step {repair['train_steps']}, rates {repair['learning_rates']}"
    return str(repair)


def main_for(config_cls, presets, build_model):
    """The ``main(argv)`` of a training binary, for `absl.app.run`.

    Reads the config from the flags `train.flags.define_config_flags` defined,
    checks it (a usage error lists every problem), trains, and turns setup
    problems into a one-line exit message instead of a traceback.

    Args:
      config_cls: the config dataclass the flags were defined from.
      presets: name -> config, for ``--preset``.
      build_model: a `Recipe`, or just its ``build_model`` function.
    """
    from absl import app, flags

    from train import flags as config_flags

    def main(argv):
        if len(argv) > 1:
            raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])} (flags look like --name=value).")
        try:
            config = config_flags.config_from_flags(config_cls, presets).check()
        except ValueError as error:
            raise app.UsageError(str(error)) from None
        if not flags.FLAGS["verbosity"].present:
            logging.set_verbosity(logging.WARNING)  # TF's export chatter is INFO.
        try:
            train(config, build_model)
        except SetupError as error:
            sys.exit(f"kgan: cannot start training: {error}")
        except (BadBatchError, kgan_callbacks.DivergenceError) as error:
            sys.exit(f"kgan: training stopped: {error}")

    return main

