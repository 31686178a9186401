"""The IDX format of MNIST (LeCun's): a big-endian header, then the values.

    bytes 0-1  zero
    byte  2    the value type (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
               0x0E float64)
    byte  3    the number of dimensions d
    then d big-endian uint32 sizes, then prod(sizes) values, row-major

so the magic number (the first four bytes as one integer) is 2051 for uint8 images of
shape (N, rows, cols) and 2049 for uint8 labels of shape (N,). Files may be gzipped.
"""
import gzip
import zlib

import numpy as np

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_bytes(path):
    """The file's bytes, gunzipped if the name ends with .gz; a clear ValueError for a
    damaged or truncated gzip stream."""
    path = str(path)
    if not path.endswith(".gz"):
        with open(path, "rb") as f:
            return f.read()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise ValueError(f"IDX file {path}: the gzip stream is damaged or truncated ({e}); "
                         "replace the file with a complete copy") from None


def parse_idx(buffer, name="<bytes>", expected_magic=None):
    """The array stored in IDX bytes `buffer`, after checking its header against its length
    (and its magic number against `expected_magic`)."""
    if len(buffer) < 4:
        raise ValueError(f"IDX file {name}: {len(buffer)} bytes is too short for an IDX header "
                         "(4 bytes of magic number, then the sizes)")
    magic = int.from_bytes(buffer[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"IDX file {name}: magic number {magic} (0x{magic:08x}), expected "
                         f"{expected_magic} (0x{expected_magic:08x}); not the IDX file expected")
    code, ndim = buffer[2], buffer[3]
    if buffer[0] != 0 or buffer[1] != 0 or code not in _TYPES or ndim == 0:
        raise ValueError(f"IDX file {name}: magic number {magic} (0x{magic:08x}) is not an IDX "
                         "header (expected 00 00, a type code in "
                         f"{[hex(c) for c in _TYPES]}, and a dimension count)")
    header = 4 + 4 * ndim
    if len(buffer) < header:
        raise ValueError(f"IDX file {name}: truncated header: {ndim} dimension sizes need "
                         f"{header} bytes, the file has {len(buffer)}")
    shape = tuple(int(s) for s in np.frombuffer(buffer, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_TYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(buffer) - header
    if got != expected:
        kind = "truncated" if got < expected else "longer than its header says"
        raise ValueError(f"IDX file {name}: {kind}: the header gives shape {shape} of "
                         f"{dtype.name} ({expected} bytes of data), the file holds {got}")
    array = np.frombuffer(buffer, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))   # a native-order, writable copy


def read_idx(path, expected_magic=None):
    """The array in the IDX file at `path` (gzipped if it ends with .gz), header checked."""
    return parse_idx(read_bytes(path), str(path), expected_magic)
