"""`kgan.schedules.ConstantThenLinearDecay`."""

import keras
import pytest

from kgan.schedules import ConstantThenLinearDecay


def test_constant_then_linear_decay_values():
    schedule = ConstantThenLinearDecay(2e-4, total_steps=200, decay_start_step=100, final_fraction=0.0)
    assert float(schedule(0)) == pytest.approx(2e-4)
    assert float(schedule(100)) == pytest.approx(2e-4)
    assert float(schedule(150)) == pytest.approx(1e-4)
    assert float(schedule(200)) == pytest.approx(0.0)
    assert float(schedule(500)) == pytest.approx(0.0)
    to_tenth = ConstantThenLinearDecay(1e-3, total_steps=10, final_fraction=0.1)
    assert float(to_tenth(5)) == pytest.approx(1e-3 * (1 - 0.9 * 0.5))


def test_schedule_round_trips_inside_an_optimizer():
    schedule = ConstantThenLinearDecay(1e-3, 100, 50, 0.2)
    optimizer = keras.optimizers.Adam(schedule)
    restored = keras.optimizers.Adam.from_config(optimizer.get_config())
    assert isinstance(restored._learning_rate, ConstantThenLinearDecay)
    assert restored._learning_rate.get_config() == schedule.get_config()
    restored.iterations.assign(75)
    assert float(restored.learning_rate) == pytest.approx(1e-3 * (1 - 0.8 * 0.5))


def test_bad_arguments():
    with pytest.raises(ValueError):
        ConstantThenLinearDecay(1e-3, total_steps=10, decay_start_step=10)
    with pytest.raises(ValueError):
        ConstantThenLinearDecay(1e-3, total_steps=10, final_fraction=1.5)
