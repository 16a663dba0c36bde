"""Learning-rate schedules the papers use, as serializable Keras schedules."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kgan")
class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant, then linear decay to ``final_fraction * initial_learning_rate``.

    CycleGAN (Zhu et al. 2017) and StarGAN (Choi et al. 2018) keep the rate for
    the first half of training and decay it linearly to 0 over the second half
    (``decay_start_step = total_steps // 2``, ``final_fraction = 0``); decaying
    a GAN's rate over all of training (``decay_start_step = 0``) lets the
    generator settle on narrow modes after exploring.

    Args:
      initial_learning_rate: rate up to ``decay_start_step``.
      total_steps: optimizer step at which the final rate is reached (kept after).
      decay_start_step: first step of the decay, ``0 <= decay_start_step < total_steps``.
      final_fraction: final rate as a fraction of the initial one, in [0, 1].
    """

    def __init__(self, initial_learning_rate, total_steps, decay_start_step=0, final_fraction=0.0):
        if not 0 <= decay_start_step < total_steps:
            raise ValueError(
                f"Need 0 <= decay_start_step < total_steps; got decay_start_step={decay_start_step}, total_steps={total_steps}."
            )
        if not 0.0 <= final_fraction <= 1.0:
            raise ValueError(f"final_fraction must be in [0, 1]; got {final_fraction}.")
        self.initial_learning_rate = float(initial_learning_rate)
        self.total_steps = int(total_steps)
        self.decay_start_step = int(decay_start_step)
        self.final_fraction = float(final_fraction)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        progress = (step - self.decay_start_step) / float(self.total_steps - self.decay_start_step)
        progress = ops.clip(progress, 0.0, 1.0)
        return self.initial_learning_rate * (1.0 - (1.0 - self.final_fraction) * progress)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "total_steps": self.total_steps,
            "decay_start_step": self.decay_start_step,
            "final_fraction": self.final_fraction,
        }
