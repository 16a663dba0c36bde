"""Reader for the IDX files that MNIST and Fashion-MNIST are distributed in.

IDX layout (big-endian): two zero bytes, a type code (0x08 = unsigned byte), the
number of dimensions ``ndim``, then ``ndim`` uint32 sizes, then the data.
"""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np

_UBYTE_TYPE_CODE = 0x08


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads an uncompressed or gzip-compressed IDX file of unsigned bytes.

    Args:
      path: an ``*-ubyte`` or ``*-ubyte.gz`` file, e.g.
        ``train-images-idx3-ubyte.gz`` (``[60000, 28, 28]``) or
        ``train-labels-idx1-ubyte.gz`` (``[60000]``).

    Returns:
      A uint8 array with the shape stored in the header, values in [0, 255].

    Raises:
      ValueError: if the file is not an unsigned-byte IDX file or is truncated.
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4]!r}).")
    type_code, ndim = raw[2], raw[3]
    if type_code != _UBYTE_TYPE_CODE:
        raise ValueError(f"{path}: only unsigned-byte IDX files are supported, got type code {type_code:#04x}.")
    header_size = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    expected = int(np.prod(shape))
    data = np.frombuffer(raw, dtype=np.uint8, offset=header_size)
    if data.size != expected:
        raise ValueError(f"{path}: header says shape {shape} ({expected} bytes) but {data.size} data bytes follow.")
    return data.reshape(shape)
