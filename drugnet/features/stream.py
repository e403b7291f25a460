"""Write the ``torch.save`` files of the feature cache in chunks, in memory flat in library size.

Each tensor is appended chunk by chunk to a raw temporary file (row-major bytes). At the end the
file is laid out with ``torch.save`` under ``torch.serialization.skip_data`` (shapes and the
pickled structure written, storage bytes left as reserved space), then every storage record is
filled from its raw file in blocks and its zip CRC-32 is written into the local header and the
central directory. ``torch.load(path, weights_only=True)`` of the result gives exactly the
tensors a plain ``torch.save`` of the concatenated chunks would
(tests/unit/features/test_stream.py).

Storage records are numbered in pickling order, i.e. the insertion order of the tensors in the
saved dict (one storage per tensor); every record's size is checked against its tensor before
it is filled.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

_BLOCK = 8 << 20  # bytes copied per read/write
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")  # zip local file header, 30 bytes
_CENTRAL_SIG = 0x02014B50
_CRC_IN_LOCAL, _CRC_IN_CENTRAL = 14, 16


class StreamedTensor:
    """A tensor built by appending row blocks; ``parts`` > 1 splits it along dim 0 into
    separately appended sub-rows (``edge_index`` ``[2, E]`` grows along dim 1)."""

    def __init__(
        self,
        folder: Path,
        name: str,
        dtype: npt.DTypeLike,
        tail: Sequence[int] = (),
        parts: int = 1,
    ):
        self.dtype, self.tail, self.parts = np.dtype(dtype), tuple(tail), parts
        self.paths = [folder / f"{name}.{k}.raw" for k in range(parts)]
        self._files = [open(p, "wb") for p in self.paths]  # noqa: SIM115 - closed in close()
        self.rows = 0

    def append(self, block: np.ndarray) -> None:
        """Append ``block`` (``[k, *tail]``; ``[parts, k]`` when split)."""
        block = np.ascontiguousarray(block, dtype=self.dtype)
        if self.parts == 1:
            self._files[0].write(block.tobytes())
            self.rows += block.shape[0]
            return
        for fh, row in zip(self._files, block, strict=False):
            fh.write(row.tobytes())
        self.rows += block.shape[1]

    def close(self) -> None:
        for fh in self._files:
            fh.close()

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.parts, self.rows) if self.parts > 1 else (self.rows, *self.tail)

    def placeholder(self) -> torch.Tensor:
        """An uninitialised tensor of the final shape (its pages are never touched)."""
        return torch.from_numpy(np.empty(self.shape, dtype=self.dtype))

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


def _central_offsets(fh, start_dir: int, end_dir: int) -> dict[str, int]:
    """Offset of every central-directory entry, by member name."""
    fh.seek(start_dir)
    data = fh.read(end_dir - start_dir)
    offsets, pos = {}, 0
    while pos + 46 <= len(data) and struct.unpack_from("<I", data, pos)[0] == _CENTRAL_SIG:
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        offsets[data[pos + 46 : pos + 46 + name_len].decode()] = start_dir + pos
        pos += 46 + name_len + extra_len + comment_len
    return offsets


def _storage_records(path: Path) -> tuple[list[zipfile.ZipInfo], dict[str, int]]:
    """The ``<archive>/data/<k>`` members in key order and the central-directory offsets."""
    with zipfile.ZipFile(path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        start_dir = zf.start_dir
    prefix = next(name.rsplit("/", 1)[0] for name in infos if name.endswith("/data.pkl"))
    keys = sorted(int(n.rsplit("/", 1)[1]) for n in infos if n.startswith(f"{prefix}/data/"))
    records = [infos[f"{prefix}/data/{k}"] for k in keys]
    with open(path, "rb") as fh:
        central = _central_offsets(fh, start_dir, os.fstat(fh.fileno()).st_size)
    return records, central


def _fill_record(fh, info: zipfile.ZipInfo, central_offset: int, sources: list[Path]) -> None:
    """Copy ``sources`` (in order) into the record's reserved bytes and write its CRC-32."""
    fh.seek(info.header_offset)
    header = _LOCAL_HEADER.unpack(fh.read(_LOCAL_HEADER.size))
    fh.seek(info.header_offset + _LOCAL_HEADER.size + header[9] + header[10])
    crc = 0
    for source in sources:
        with open(source, "rb") as src:
            while block := src.read(_BLOCK):
                fh.write(block)
                crc = zlib.crc32(block, crc)
    for offset in (info.header_offset + _CRC_IN_LOCAL, central_offset + _CRC_IN_CENTRAL):
        fh.seek(offset)
        fh.write(struct.pack("<I", crc))


def save_streamed(obj: dict[str, Any], path: str | os.PathLike) -> None:
    """``torch.save(obj, path)`` where ``obj`` values may be ``StreamedTensor`` (closed first)."""
    streamed = [v for v in obj.values() if isinstance(v, StreamedTensor)]
    for value in streamed:
        value.close()
    layout = {k: v.placeholder() if isinstance(v, StreamedTensor) else v for k, v in obj.items()}
    if any(isinstance(v, torch.Tensor) for v in obj.values()):
        raise TypeError("save_streamed takes StreamedTensor values, not in-memory tensors")
    with torch.serialization.skip_data():
        torch.save(layout, path)
    records, central = _storage_records(Path(path))
    if len(records) != len(streamed):
        raise RuntimeError(f"{path}: {len(records)} storage records for {len(streamed)} tensors")
    with open(path, "r+b") as fh:
        for info, value in zip(records, streamed, strict=False):
            if info.file_size != value.nbytes:
                raise RuntimeError(
                    f"{path}: record {info.filename} has {info.file_size} bytes, "
                    f"tensor {value.shape} needs {value.nbytes}"
                )
            _fill_record(fh, info, central[info.filename], value.paths)
