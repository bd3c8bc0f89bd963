"""The on-disk cache of embeddings: every vector an embedding model returned, kept so that no prompt is
embedded twice, whatever log it comes from next.

One folder per embedding model, data/<bench>/.bench_builder/embeddings/<model_name>/, holding
`header.json` ({model_name, dimensions}) and `vectors.bin`: fixed-size records, the prompt's key (its
sha256, 32 bytes) then its float32 vector. Records are appended one response at a time, each in one
write, so a run killed at any moment leaves whole records and at most a cut-off tail, which the next
writer drops. Read through a memory map: only the rows asked for are copied. A folder whose header
names another model, or vectors of another length than the folder's, are refused with one line.
May import: arena_hard.core; numpy."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from arena_hard.core.errors import UserError
from arena_hard.core.atomic_write import atomic_write_text

KEY_BYTES = 32


class VectorStore:
    def __init__(self, directory: Path, model_name: str, *, write: bool = True):
        self.directory = Path(directory)
        self.model_name = model_name
        self.header_path = self.directory / "header.json"
        self.data_path = self.directory / "vectors.bin"
        self.dimensions: int | None = None
        if self.header_path.exists():
            header = self._header()
            if header.get("model_name") != model_name:
                raise UserError(f"{self.directory} holds vectors of {header.get('model_name')!r}, not of "
                                f"{model_name!r}: delete that folder to embed again")
            self.dimensions = header["dimensions"]
        if write and self.dimensions is not None:
            self._drop_cut_tail()
        self._rows = self._index()

    def _header(self) -> dict:
        try:
            header = json.loads(self.header_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UserError(f"{self.header_path}: cannot be read ({type(error).__name__}); delete "
                            f"{self.directory} to embed again") from None
        if not isinstance(header, dict) or not isinstance(header.get("dimensions"), int) or header["dimensions"] < 1:
            raise UserError(f"{self.header_path}: not a vector cache header; delete {self.directory} to embed again")
        return header

    @property
    def _dtype(self) -> np.dtype:
        # V (raw bytes), not S: S drops the trailing zero bytes of a key
        return np.dtype([("key", f"V{KEY_BYTES}"), ("vector", "<f4", (self.dimensions,))])

    def _drop_cut_tail(self) -> None:
        if self.data_path.exists():
            size = self.data_path.stat().st_size
            whole = size - size % self._dtype.itemsize
            if whole != size:
                os.truncate(self.data_path, whole)

    def _records(self) -> np.ndarray | None:
        if self.dimensions is None or not self.data_path.exists():
            return None
        count = self.data_path.stat().st_size // self._dtype.itemsize
        if count == 0:
            return None
        return np.memmap(self.data_path, dtype=self._dtype, mode="r", shape=(count,))

    def _index(self) -> dict[bytes, int]:
        records = self._records()
        self._count = 0 if records is None else len(records)
        if records is None:
            return {}
        return {key: row for row, key in enumerate(records["key"].tolist())}

    def __contains__(self, key: str) -> bool:
        return bytes.fromhex(key) in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def check_lengths(self, vectors: Sequence[np.ndarray], source: str) -> None:
        lengths = sorted({len(vector) for vector in vectors} | ({self.dimensions} if self.dimensions else set()))
        if len(lengths) > 1 or lengths == [0]:
            held = f" (the cache in {self.directory} holds {self.dimensions})" if self.dimensions else ""
            raise UserError(f"{source} returned vectors of {' and '.join(map(str, lengths))} dimensions{held}: "
                            "an embedding model gives every text a vector of one length; check that it names an "
                            "embedding model, or delete that folder if the model changed")

    def append(self, keys: Sequence[str], vectors: Sequence[np.ndarray]) -> None:
        """Add one response's vectors (checked with check_lengths first)."""
        if self.dimensions is None:
            self.dimensions = len(vectors[0])
            atomic_write_text(self.header_path, json.dumps({"model_name": self.model_name,
                                                            "dimensions": self.dimensions}) + "\n")
        records = np.empty(len(keys), dtype=self._dtype)
        records["key"] = [bytes.fromhex(key) for key in keys]
        records["vector"] = np.vstack(vectors)
        data = memoryview(records.tobytes())
        fd = os.open(self.data_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
        for offset, key in enumerate(keys):
            self._rows.setdefault(bytes.fromhex(key), self._count + offset)
        self._count += len(keys)

    def matrix(self, keys: Sequence[str]) -> np.ndarray:
        """The vectors of `keys`, in order, as one float32 array (every key must be in the store)."""
        records = self._records()
        rows = np.fromiter((self._rows[bytes.fromhex(key)] for key in keys), dtype=np.int64, count=len(keys))
        return np.ascontiguousarray(records["vector"][rows])
