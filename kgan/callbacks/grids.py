"""Progress-picture callbacks: `GridCallback` and its `SampleGrid` and `TranslationGrid`.

Each writes a picture of the current model (a PNG, optionally TensorBoard)
every n epochs; the drawing itself is `kgan.rendering`.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from kgan.callbacks._chief import _is_chief
from kgan.rendering import image_grid, point_plot, tensorboard_available, write_png

__all__ = ["GridCallback", "SampleGrid", "TranslationGrid"]


class GridCallback(keras.callbacks.Callback):
    """Base of the picture-writing callbacks: a PNG every n epochs, optionally TensorBoard.

    Subclasses implement `render`, returning uint8 pixels ``[H, W, C]`` (or
    None to skip). Only the chief worker writes.

    Args:
      directory: where ``epoch_{epoch:04d}.png`` files go (epochs count from 1,
        as in Keras's progress bar). Created if missing.
      every_n_epochs: write after epochs n, 2n, ...
      tensorboard_dir: if set, the picture is also logged there with
        `tf.summary.image` (tag ``samples``, step = epoch). Needs the
        ``tensorboard`` package; without it a warning says so, once.
    """

    def __init__(self, directory, every_n_epochs: int = 1, tensorboard_dir=None):
        super().__init__()
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1; got {every_n_epochs}.")
        self.directory = os.fspath(directory)
        self.every_n_epochs = int(every_n_epochs)
        self.tensorboard_dir = tensorboard_dir
        self._writer = None
        self._warned_tensorboard = False

    def render(self):
        """The picture for the current model: uint8 ``[H, W, C]``, or None to skip."""
        raise NotImplementedError

    def on_epoch_end(self, epoch, logs=None):
        completed = epoch + 1
        if completed % self.every_n_epochs == 0:
            self.write(os.path.join(self.directory, f"epoch_{completed:04d}.png"), step=completed)

    def write(self, path, step: int | None = None):
        """Renders the current model into ``path``.

        Args:
          path: PNG file to write.
          step: if given and ``tensorboard_dir`` is set, also log the picture at this step.

        Returns:
          ``path``, or None when nothing was drawn or this is not the chief worker.
        """
        if not _is_chief(self.model):
            return None
        pixels = self.render()
        if pixels is None:
            return None
        write_png(pixels, path)
        if self.tensorboard_dir and step is not None:
            self._log_summary(pixels, step)
        return path

    def _log_summary(self, pixels, step):
        if not tensorboard_available():
            if not self._warned_tensorboard:
                logging.warning("%s: `pip install tensorboard` to log pictures to %s.", type(self).__name__, self.tensorboard_dir)
                self._warned_tensorboard = True
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.fspath(self.tensorboard_dir))
        with self._writer.as_default():
            tf.summary.image("samples", pixels[None], step=step)
        self._writer.flush()


class SampleGrid(GridCallback):
    """Writes a grid of generated samples for fixed latent vectors every n epochs.

    The model says what to draw: ``model.preview_inputs(num_samples, seed)``
    returns the inputs of ``model(...)`` and the number of grid rows (None:
    square). They are taken once, so every epoch's grid shows the same inputs.
    For `kgan.GAN` they are z = ``stateless_normal([num_samples, latent_dim],
    seed=[seed, 0])`` -- the same z as ``model.generate(num_samples, seed)``
    and the exported ``sample`` signature -- so the last grid matches what the
    SavedModel serves.

    Image models (``model.sample_shape`` of rank 3) get an image grid; models
    of 2-D points (``sample_shape == (2,)``) get a scatter plot of
    ``[-points_extent, points_extent]^2``. Other sample shapes are skipped with
    a warning.

    Class-conditional models (`kgan.ConditionalGAN`) get one row per class: K rows of
    ``max(1, num_samples // K)`` samples, row k drawn with label k, i.e.
    ``labels = repeat(range(K), columns)`` with z as above for that many
    samples -- what ``model.generate(labels=labels, seed=seed)`` and the
    exported ``sample(labels, seed)`` give.

    Args:
      directory: where ``epoch_{epoch:04d}.png`` files go (epochs count from 1,
        as in Keras's progress bar). Created if missing.
      num_samples: number of samples in each grid.
      seed: seed of the fixed latent vectors.
      every_n_epochs: write after epochs n, 2n, ...
      tensorboard_dir: if set, the grid is also logged there with
        `tf.summary.image` (tag ``samples``, step = epoch). Needs the
        ``tensorboard`` package; without it a warning says so, once.
      points_extent: half-width of the scatter plot of point models.

    Attributes:
      latent_vectors: the fixed z, float32 numpy ``[num_samples, latent_dim]``,
        drawn at the start of training (or by `write`).
      labels: for class-conditional models, the int32 label of each sample
        (class-major: row k holds class k); None otherwise.
    """

    def __init__(
        self,
        directory,
        num_samples: int = 64,
        seed: int = 0,
        every_n_epochs: int = 1,
        tensorboard_dir=None,
        points_extent: float = 5.0,
    ):
        super().__init__(directory, every_n_epochs, tensorboard_dir)
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1; got {num_samples}.")
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.points_extent = float(points_extent)
        self.latent_vectors = None
        self.labels = None
        self._inputs = None
        self._warned = False

    def _model_inputs(self):
        """``(inputs, rows)`` from the model's ``preview_inputs(num_samples, seed)``, drawn once."""
        if self._inputs is None:
            preview = getattr(self.model, "preview_inputs", None)
            if preview is None:
                raise TypeError(
                    f"SampleGrid needs a model with preview_inputs(num_samples, seed) (a latent-variable "
                    f"generator such as kgan.GAN); {type(self.model).__name__} has none."
                )
            inputs, rows = preview(self.num_samples, self.seed)
            self._inputs = (inputs, rows)
            z, labels = (inputs[0], inputs[1]) if isinstance(inputs, (list, tuple)) else (inputs, None)
            self.latent_vectors = np.asarray(z)
            self.labels = None if labels is None else np.asarray(labels)
        return self._inputs

    def on_train_begin(self, logs=None):
        self._model_inputs()

    def render(self):
        """The grid (or scatter plot) of the fixed latent vectors under the current generator."""
        shape = tuple(self.model.sample_shape)
        inputs, rows = self._model_inputs()
        samples = np.asarray(self.model(inputs, training=False))
        if len(shape) == 3:
            return image_grid(samples, rows=rows)
        if shape == (2,):
            return point_plot(samples, self.points_extent)
        if not self._warned:
            logging.warning("SampleGrid: no picture for samples of shape %s; only images and 2-D points are drawn.", shape)
            self._warned = True
        return None


class TranslationGrid(GridCallback):
    """Shows what an image-to-image model does to fixed input images, every n epochs.

    The model's ``preview_rows(inputs)`` returns a list of image batches, one
    grid row each (`kgan.CycleGAN`: x, G(x), F(G(x)), y, F(y), G(F(y)));
    grayscale rows are shown in RGB when other rows are in colour.

    Args:
      directory, every_n_epochs, tensorboard_dir: see `GridCallback`.
      inputs: fixed model inputs (e.g. ``(images_x, images_y)`` of a few test
        images), taken once so every epoch's picture shows the same images.
    """

    def __init__(self, directory, inputs, every_n_epochs: int = 1, tensorboard_dir=None):
        super().__init__(directory, every_n_epochs, tensorboard_dir)
        self.inputs = inputs

    def render(self):
        rows = [np.asarray(row, np.float32) for row in self.model.preview_rows(self.inputs)]
        if any(row.shape[-1] == 3 for row in rows):
            rows = [np.repeat(row, 3, axis=-1) if row.shape[-1] == 1 else row for row in rows]
        return image_grid(np.concatenate(rows, axis=0), rows=len(rows))
