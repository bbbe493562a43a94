"""Readers of the datasets' real on-disk formats: gzipped IDX (MNIST, Fashion-MNIST)
and CIFAR-10's pickled batches. The tests write small files in these formats."""
import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (gzipped or not): magic 0x0000TTDD, DD dimension sizes, then data."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (magic {raw[:4].hex()})")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=_IDX_DTYPES[dtype_code], offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} but holds {data.size} values (truncated?)")
    return data.reshape(dims).copy()  # frombuffer is read-only; torch wants writable memory


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as gzipped IDX (used by tests and by anyone making small fixtures)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch: (N x 3 x 32 x 32 uint8, N labels).

    The files are Python pickles; they are read only after their MD5 matched the
    published checksum (see course.data.fetching.verified)."""
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    labels = np.asarray(batch.get(b"labels", batch.get(b"fine_labels")), dtype=np.int64)
    return data, labels


def write_cifar_batch(path: Path, data: np.ndarray, labels) -> None:
    with open(path, "wb") as f:
        pickle.dump({b"data": np.asarray(data, np.uint8).reshape(len(labels), -1),
                     b"labels": list(map(int, labels))}, f)
