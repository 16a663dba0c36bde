r"""Where StarGAN's demo loses the garment: content kept and distance to the perfect translation, by inversion.

Trains the ``star_gan`` demo preset (or ``--steps`` of it) in this process,
translates the tinted test images to permuted targets, and compares each
translation with the *perfect* one -- the renderer
(`kgan.data.attributes.render_attributes`) applied to the gray source and the
target -- split by whether the translation keeps, adds or removes the
inversion. A garment classifier trained on real tinted images judges both, so
the table separates what the generator gets wrong from what the classifier
cannot recognise.

Example::

    python bench/star_gan_content.py --seed=0
    python bench/star_gan_content.py --steps=300 --extra_flags=--identity_weight=0
    python bench/star_gan_content.py --picture=docs/images/star_gan_content.png
    python bench/star_gan_content.py --supervised    # the generator alone, told the answer

``--supervised`` trains the preset's generator alone, with the same steps,
minibatch and rate, on the L1 distance to the perfect translations of random
targets -- no discriminator, no cycle: what the architecture reaches in the
budget when the answer is given, the ceiling the adversarial game works under.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402
import seed_tables  # noqa: E402  (bench/, beside this script)
from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_integer("seed", 0, "Seeds the model, the data order and the targets.")
flags.DEFINE_integer("steps", None, "Training steps; unset: the demo preset's epochs x steps_per_epoch.")
flags.DEFINE_string("picture", None, "Writes a PNG here: per inversion change (rows of 3), 8 inputs, their "
                    "perfect translations and the model's.")
flags.DEFINE_bool("supervised", False, "Train the generator alone on the L1 distance to perfect translations "
                  "(paired supervision, no discriminator) instead of the StarGAN game.")
flags.DEFINE_list("extra_flags", [], "StarGANConfig fields to change, as --name=value (e.g. --identity_weight=0; "
                  "a value may hold commas: --diff_augment=translation,cutout).")


def _config(seed):
    from kgan import configs

    config = dataclasses.replace(configs.STAR_GAN_PRESETS["demo"], seed=seed)
    types = {field.name: field.type for field in dataclasses.fields(config)}
    for flag in seed_tables.rejoin_flag_values(FLAGS.extra_flags):
        if "=" not in flag:
            raise app.UsageError(f"--extra_flags: expected --name=value, got {flag!r}.")
        name, value = flag.lstrip("-").split("=", 1)
        if name not in types:
            raise app.UsageError(f"--extra_flags: StarGANConfig has no field {name!r}.")
        kind = {"int": int, "float": float, "bool": lambda v: v.lower() in ("1", "true")}.get(str(types[name]), str)
        config = dataclasses.replace(config, **{name: kind(value)})
    problems = config.problems()
    if problems:
        raise app.UsageError("\n".join(problems))
    return config


def _supervised_generator(config, images, num_attributes, steps):
    """The preset's generator trained alone on |G(x, c) - perfect(x, c)| for random targets c (Adam, constant rate)."""
    import keras
    import tensorflow as tf

    from kgan.data import attributes, sources
    from kgan.data.ranges import to_model_range

    gray, _ = sources.fashion_mnist_arrays("train", attributes.TINTED_SOURCES[config.dataset])
    generator = config.build_networks((images.shape[1:], num_attributes))["generator"]
    optimizer = keras.optimizers.Adam(config.generator_learning_rate, beta_1=0.5, beta_2=0.999)
    inputs = to_model_range(images).astype(np.float32)
    rng = np.random.default_rng(config.seed)

    @tf.function
    def step(x, c, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(generator([x, c], training=True) - y))
        optimizer.apply_gradients(zip(tape.gradient(loss, generator.trainable_variables), generator.trainable_variables))

    for _ in range(steps):
        rows = rng.integers(0, len(inputs), config.batch_size)
        targets = attributes.random_tint_attributes(config.batch_size, int(rng.integers(1 << 30)))
        step(inputs[rows], targets, to_model_range(attributes.render_attributes(gray[rows], targets)).astype(np.float32))
    return lambda x, c: generator.predict([x, c], batch_size=256, verbose=0)


def main(argv):
    del argv
    import keras

    import kgan
    from kgan import metrics
    from kgan.data import attributes
    from kgan.data.ranges import to_model_range
    from train import train_lib

    config = _config(FLAGS.seed)
    images, labels, classes = attributes.tinted_arrays(config.dataset, "train")
    keras.utils.set_random_seed(config.seed)
    steps = FLAGS.steps or config.epochs * config.steps_per_epoch
    # The learning-rate decay spans the config's epochs x steps_per_epoch: make that the steps run, or a
    # longer run would sit at the decayed rate after the preset's length.
    config = dataclasses.replace(config, epochs=1, steps_per_epoch=steps)
    if FLAGS.supervised:
        translate = _supervised_generator(config, images, labels.shape[-1], steps)
    else:
        model = train_lib.build_compiled(kgan.registry.get("star_gan"), config, (images.shape[1:], labels.shape[-1]))
        data = attributes.attribute_dataset(images, labels, model.examples_per_step(config.batch_size), repeat=True,
                                            seed=config.seed)
        model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
        translate = model.translate

    test_images, test_labels, test_classes = attributes.tinted_arrays(config.dataset, "test")
    targets = metrics.permuted_targets(test_labels, seed=config.seed + 1)
    perfect = to_model_range(attributes.tinted_perfect_translations(targets, config.dataset, "test"))
    translated = np.asarray(translate(to_model_range(test_images), targets))
    judge = metrics.train_content_classifier(images, classes, seed=config.seed)
    attribute_judge = metrics.train_attribute_classifier(images, labels, seed=config.seed)

    def kept(batch, rows):
        return float(np.mean(np.argmax(judge.predict(batch[rows], verbose=0), -1) == test_classes[rows]))

    print(f"{'Generator alone, L1 to perfect translations' if FLAGS.supervised else 'StarGAN'} demo recipe, "
          f"{steps} steps, seed {config.seed}{', ' + ' '.join(FLAGS.extra_flags) if FLAGS.extra_flags else ''}")
    print("| source -> target inversion | images | class kept, translated | class kept, perfect "
          "| mean |translated - perfect| | target attributes, translated |")
    print("| --- | --- | --- | --- | --- | --- |")
    groups = [("all", np.ones(len(targets), bool))] + [
        (f"{'inverted' if a else 'plain'} -> {'inverted' if b else 'plain'}",
         (test_labels[:, 3] == a) & (targets[:, 3] == b)) for a in (0, 1) for b in (0, 1)]
    for name, rows in groups:
        hits = (attribute_judge.predict(translated[rows], verbose=0) > 0) == (targets[rows] > 0.5)
        print(f"| {name} | {rows.sum()} | {kept(translated, rows):.3f} | {kept(perfect, rows):.3f} "
              f"| {np.abs(translated[rows] - perfect[rows]).mean():.3f} | {hits.mean():.3f} |")
    if FLAGS.picture:
        from kgan import rendering

        source = to_model_range(test_images)
        tiles = []
        for _, rows in groups[1:]:
            chosen = np.flatnonzero(rows)[:8]
            tiles += [source[chosen], perfect[chosen], translated[chosen]]
        print("Picture (per inversion change: inputs, perfect, translated):",
              rendering.save_image_grid(np.concatenate(tiles), FLAGS.picture, rows=len(tiles)))


if __name__ == "__main__":
    app.run(main)
