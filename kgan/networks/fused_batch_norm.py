"""`BatchNormalization` as one fused TensorFlow op per call (Ioffe & Szegedy 2015).

Keras 3's `keras.layers.BatchNormalization` computes batch statistics and the
normalisation from elementwise ops (mean, squared difference, multiply, add,
and their gradients), and under a mixed-precision policy casts its input to
float32 and back. On a CPU those ops are a sixth of a DCGAN train step's op
time (`python bench/profile_step.py --model=gan`). TensorFlow's
``FusedBatchNormV3`` (oneDNN's batch norm on x86) does the same work in one
forward and one backward op, reading bfloat16/float16 inputs directly with
float32 statistics.

`FusedBatchNormalization` is a drop-in subclass: same arguments, weights and
moving-average rule (Keras 3's: the biased batch variance), so a network built
with it computes what the Keras layer computes, up to float rounding. It takes
the fused path for inputs of rank 2 or 4 normalised over the last axis, on the
TensorFlow backend, without a mask, renormalisation or synchronisation, and
an epsilon of at least 1.001e-5 (the fused op's floor); anything else goes
through the Keras layer's own ``call``.
"""

from __future__ import annotations

import keras
from keras import layers, ops

_MIN_FUSED_EPSILON = 1.001e-5


@keras.saving.register_keras_serializable(package="kgan")
class FusedBatchNormalization(layers.BatchNormalization):
    """`keras.layers.BatchNormalization` over the last axis through ``tf.compat.v1.nn.fused_batch_norm``.

    Inputs ``[B, C]`` or ``[B, H, W, C]`` of any float dtype; outputs the
    same shape in the layer's compute dtype. In training the batch mean and
    the biased batch variance normalise the input and update the moving
    averages with ``momentum``, as the Keras layer does (TensorFlow's fused
    op returns the unbiased variance, n / (n - 1) times the biased one; it is
    scaled back before the update).
    """

    def _fusable(self, inputs, mask) -> bool:
        rank = len(inputs.shape)
        return (
            keras.backend.backend() == "tensorflow"
            and mask is None
            and not self.renorm
            and not getattr(self, "synchronized", False)
            and rank in (2, 4)
            # The fused op raises a smaller epsilon to 1.001e-5; keep the layer's own value exact.
            and self.epsilon >= _MIN_FUSED_EPSILON
            and list(self.axis if isinstance(self.axis, (list, tuple)) else [self.axis]) in ([rank - 1], [-1])
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        shape = tf.shape(inputs)
        x = inputs if len(inputs.shape) == 4 else tf.reshape(inputs, [shape[0], 1, 1, shape[1]])
        if x.dtype not in (tf.float16, tf.bfloat16, tf.float32):
            x = tf.cast(x, tf.float32)
        channels = inputs.shape[-1]
        gamma = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([channels], tf.float32)
        beta = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([channels], tf.float32)
        if training and self.trainable:
            outputs, mean, unbiased = tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, epsilon=self.epsilon, is_training=True)
            count = tf.cast(tf.reduce_prod(tf.shape(x)[:3]), tf.float32)
            variance = unbiased * ((count - 1.0) / tf.maximum(count, 1.0))
            momentum = self.momentum
            self.moving_mean.assign(self.moving_mean * momentum + ops.cast(mean, self.moving_mean.dtype) * (1.0 - momentum))
            self.moving_variance.assign(
                self.moving_variance * momentum + ops.cast(variance, self.moving_variance.dtype) * (1.0 - momentum)
            )
        else:
            outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, gamma, beta, mean=tf.cast(self.moving_mean, tf.float32), variance=tf.cast(self.moving_variance, tf.float32),
                epsilon=self.epsilon, is_training=False,
            )
        if len(inputs.shape) == 2:
            outputs = tf.reshape(outputs, shape)
        return ops.cast(outputs, self.compute_dtype)
