"""AdversarialModel's compile options (the step itself is checked for every model by tests/test_case.py's harness)."""

import pytest
import tensorflow as tf

from tests.test_case import tiny_image_gan


def test_jit_compile_auto_is_off_on_a_cpu_and_bad_values_fail():
    if tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"):
        pytest.skip("auto turns XLA on where an accelerator is visible")
    model = tiny_image_gan(compile=False)
    model.compile(jit_compile="auto")
    assert model.xla_gradients is False and model.get_compile_config()["jit_compile"] is False
    model.compile(jit_compile=True)
    assert model.xla_gradients is True and model.get_compile_config()["jit_compile"] is True
    with pytest.raises(ValueError, match="jit_compile"):
        model.compile(jit_compile="yes")
