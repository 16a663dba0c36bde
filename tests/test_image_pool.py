"""ImagePool: fill, then swap with probability 1/2, inside tf.function, saved with the weights."""

import numpy as np
import pytest
import tensorflow as tf

from kgan.image_pool import ImagePool


def images(values):
    """One 2x2x1 image per value, filled with it: a query's answer is readable as a value list."""
    return tf.constant(np.asarray(values, np.float32)[:, None, None, None] * np.ones((1, 2, 2, 1), np.float32))


def values(batch):
    return [float(v) for v in np.asarray(batch)[:, 0, 0, 0]]


def test_fills_to_capacity_returning_the_new_images():
    pool = ImagePool(3, (2, 2, 1))
    query = tf.function(pool.query)
    out = query(images([1, 2]), tf.zeros([2]), tf.zeros([2]))
    assert values(out) == [1, 2]
    out = query(images([3, 4]), tf.zeros([2]), tf.fill([2], 0.5))
    # 3 fills the last slot and comes back; 4 meets a full pool, coin 0 < 0.5
    # swaps with slot floor(0.5 * 3) = 1, which held 2.
    assert values(out) == [3, 2]
    assert int(pool.count.numpy()) == 3
    assert values(pool.images) == [1, 4, 3]


def test_full_pool_swaps_only_when_the_coin_says_so():
    pool = ImagePool(2, (2, 2, 1))
    query = tf.function(pool.query)
    query(images([1, 2]), tf.zeros([2]), tf.zeros([2]))
    # coins: 0.7 keeps (returns the new image), 0.2 swaps with slot floor(0.99 * 2) = 1.
    out = query(images([5, 6]), tf.constant([0.7, 0.2]), tf.constant([0.0, 0.99]))
    assert values(out) == [5, 2]
    assert values(pool.images) == [1, 6]


def test_an_image_stored_earlier_in_the_same_batch_can_come_back():
    pool = ImagePool(1, (2, 2, 1))
    out = tf.function(pool.query)(images([1, 2, 3]), tf.zeros([3]), tf.zeros([3]))
    # 1 fills; 2 swaps 1 out; 3 swaps 2 out (sequential semantics of the paper).
    assert values(out) == [1, 1, 2]
    assert values(pool.images) == [3]


def test_swap_rate_is_one_half_once_full():
    pool = ImagePool(50, (2, 2, 1))
    query = tf.function(pool.query)
    query(images(np.arange(50)), tf.zeros([50]), tf.zeros([50]))
    rng = np.random.default_rng(0)
    new = np.arange(1000, 3000)
    out = query(images(new), tf.constant(rng.uniform(size=2000), tf.float32), tf.constant(rng.uniform(size=2000), tf.float32))
    returned_old = np.mean(np.asarray(values(out)) != new)
    assert 0.46 < returned_old < 0.54


def test_zero_capacity_is_a_pass_through():
    pool = ImagePool(0, (2, 2, 1))
    assert values(pool.query(images([7, 8]), tf.zeros([2]), tf.zeros([2]))) == [7, 8]


def test_the_pool_is_saved_with_the_weights(tmp_path):
    import keras

    pool = ImagePool(2, (2, 2, 1))
    pool.query(images([1, 2]), tf.zeros([2]), tf.zeros([2]))
    path = str(tmp_path / "pool.weights.h5")
    holder = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Identity()])
    holder.pool = pool
    holder.save_weights(path)
    other = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Identity()])
    other.pool = ImagePool(2, (2, 2, 1))
    other.load_weights(path)
    assert values(other.pool.images) == [1, 2] and int(other.pool.count.numpy()) == 2


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="capacity"):
        ImagePool(-1, (2, 2, 1))
    with pytest.raises(ValueError, match="swap_probability"):
        ImagePool(2, (2, 2, 1), swap_probability=1.5)
    with pytest.raises(ValueError, match="image_shape"):
        ImagePool(2, (2, 2))
