"""Shared builders for tests: tiny models that train in milliseconds, and a fresh-process runner."""

import os

import keras
import numpy as np

import kgan
from kgan.networks import dcgan_discriminator, dcgan_generator, mlp_discriminator, mlp_generator


def tiny_image_gan(image_shape=(28, 28, 1), latent_dim=8, base_filters=8, compile=True, **kwargs):
    """A DCGAN-shaped `kgan.GAN` small enough to step in milliseconds."""
    generator = dcgan_generator(latent_dim, image_shape, base_filters)
    discriminator = dcgan_discriminator(image_shape, base_filters)
    model = kgan.GAN(generator, discriminator, latent_dim, **kwargs)
    if compile:
        model.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))
    return model


def points_gan(latent_dim=16, hidden=(64, 64), compile=True, **kwargs):
    """An MLP `kgan.GAN` for 2-D points."""
    model = kgan.GAN(mlp_generator(latent_dim, 2, hidden), mlp_discriminator(2, hidden), latent_dim, **kwargs)
    if compile:
        model.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))
    return model


def random_images(n, shape=(28, 28, 1), seed=0):
    """Float32 images uniform in [-1, 1]."""
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype(np.float32)


def snapshot(variables):
    """Copies of the variables' values, in order (paths repeat across networks built alike)."""
    return [(v.path, np.array(v.numpy())) for v in variables]


def changed(before, variables):
    """Paths of the variables whose value differs from the snapshot taken of the same list."""
    variables = list(variables)
    if [path for path, _ in before] != [v.path for v in variables]:
        raise ValueError("changed() needs the same variable list the snapshot was taken of.")
    return {v.path for (_, value), v in zip(before, variables) if not np.array_equal(value, v.numpy())}


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Opening of a `run_script` program that trains on two replicas: the CPU split into two
# logical devices (before TensorFlow initialises them, hence a fresh process).
TWO_LOGICAL_CPUS = r"""
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
"""


def run_script(tmp_path, text, *args, in_repo=True, timeout=300):
    """Runs Python source ``text`` in a fresh process; returns its stdout's last line.

    ``in_repo``: run from the repository (kgan importable from the working
    tree); False runs from ``tmp_path``, where ``import kgan`` would only find
    an installed copy (the TF-only reload checks never import it). Fails the
    test with the child's stderr when it exits non-zero.
    """
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(text)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, str(script), *map(str, args)], cwd=REPO if in_repo else tmp_path, env=env,
        capture_output=True, text=True, timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
