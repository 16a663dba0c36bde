"""`ImagePool`: the history of generated images CycleGAN's discriminators train on.

Shrivastava et al. (2017, section 2.3) update the discriminator with a mix of
the generator's current output and images it produced earlier, so that D does
not forget old failure modes and the two networks oscillate less; Zhu et al.
(2017, section 4) use a buffer of 50 images. Per image of a batch, in order:

* while the pool holds fewer than ``capacity`` images, the image is stored and
  returned as it is;
* once full, with probability 1/2 a uniformly chosen stored image is returned
  and the new one takes its slot; otherwise the new image is returned and the
  pool is unchanged.

The pool lives in non-trainable variables of a Keras layer, so it works inside
a compiled ``train_step``, is saved with the model's weights (a resumed run
continues with the same history) and needs no Python state. The caller passes
the randomness (two uniform numbers per image), which keeps the layer a pure
function of (state, inputs, randomness): a model can draw them from its
stateless, step-keyed noise, and all replicas of a distributed step can apply
the same query to the same globally gathered batch and keep identical pools.
"""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="kgan")
class ImagePool(keras.layers.Layer):
    """A fixed-capacity history buffer of images, held in variables.

    Args:
      capacity: number of stored images (50 in CycleGAN); 0 disables the pool
        (queries return their input).
      image_shape: ``(H, W, C)`` of the stored images.
      swap_probability: probability that a query on a full pool returns a
        stored image (and stores the new one); 0.5 in the papers.
      **kwargs: `keras.layers.Layer` arguments (``name``).

    Attributes:
      images: float32 variable ``[capacity, H, W, C]``.
      count: int32 variable, the number of slots filled (<= capacity).
    """

    def __init__(self, capacity: int = 50, image_shape=(256, 256, 3), swap_probability: float = 0.5, **kwargs):
        kwargs.setdefault("dtype", "float32")  # The history is kept in float32 under any policy.
        super().__init__(**kwargs)
        if int(capacity) < 0:
            raise ValueError(f"capacity must be >= 0; got {capacity}.")
        if not 0.0 <= swap_probability <= 1.0:
            raise ValueError(f"swap_probability must be in [0, 1]; got {swap_probability}.")
        if len(image_shape) != 3:
            raise ValueError(f"image_shape must be (H, W, C); got {tuple(image_shape)}.")
        self.capacity = int(capacity)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.swap_probability = float(swap_probability)
        # Under tf.distribute every replica computes the same new state (see
        # the module docstring); the first replica's value is kept.
        self.images = self.add_weight(
            shape=(self.capacity, *self.image_shape),
            initializer="zeros",
            trainable=False,
            name="images",
            aggregation="only_first_replica",
        )
        self.count = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", trainable=False, name="count", aggregation="only_first_replica"
        )
        self.built = True

    def query(self, images, coins, slots):
        """Returns the images to show the discriminator and updates the pool.

        Args:
          images: newly generated images ``[N, H, W, C]`` (gradients do not
            flow through the pool: the result is a constant for the caller).
          coins: float ``[N]`` uniform in [0, 1): image i swaps when
            ``coins[i] < swap_probability`` (and the pool is full).
          slots: float ``[N]`` uniform in [0, 1): the slot image i swaps with
            is ``floor(slots[i] * capacity)``.

        Returns:
          float32 ``[N, H, W, C]``: per image, itself or a stored older image.
        """
        images = tf.stop_gradient(tf.cast(images, tf.float32))
        if self.capacity == 0:
            return images
        num_images = tf.shape(images)[0]
        slot_ids = tf.minimum(tf.cast(tf.cast(slots, tf.float32) * self.capacity, tf.int32), self.capacity - 1)
        swaps = tf.cast(coins, tf.float32) < self.swap_probability

        # Sequential by definition (image i may take the slot image j < i just
        # filled or swapped); batches are small, the loop is cheap.
        def body(i, pool, count, outputs):
            image = images[i]

            def store():
                return tf.tensor_scatter_nd_update(pool, [[count]], image[None]), count + 1, image

            def swap():
                slot = slot_ids[i]
                return tf.tensor_scatter_nd_update(pool, [[slot]], image[None]), count, pool[slot]

            def keep():
                return pool, count, image

            pool, count, output = tf.cond(
                count < self.capacity, store, lambda: tf.cond(swaps[i], swap, keep)
            )
            return i + 1, pool, count, outputs.write(i, output)

        _, pool, count, outputs = tf.while_loop(
            lambda i, *_: i < num_images,
            body,
            (
                tf.constant(0),
                tf.convert_to_tensor(self.images),
                tf.convert_to_tensor(self.count),
                tf.TensorArray(tf.float32, size=num_images, element_shape=tf.TensorShape(self.image_shape)),
            ),
        )
        self.images.assign(pool)
        self.count.assign(count)
        return tf.ensure_shape(outputs.stack(), (None, *self.image_shape))

    def call(self, images, coins, slots):
        return self.query(images, coins, slots)

    def get_config(self):
        return {
            **super().get_config(),
            "capacity": self.capacity,
            "image_shape": self.image_shape,
            "swap_probability": self.swap_probability,
        }
