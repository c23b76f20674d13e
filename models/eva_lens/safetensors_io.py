"""Read and write the safetensors format with numpy only (no `safetensors` package on this machine).

Format (huggingface/safetensors, ``safetensors/src/tensor.rs``):
``u64 little-endian N`` | ``N bytes of UTF-8 JSON`` | data. The JSON maps each tensor name to
``{"dtype": "F16", "shape": [..], "data_offsets": [begin, end]}`` (offsets relative to the start of the data section,
row-major, little-endian) plus an optional ``"__metadata__": {str: str}``. The reference reader requires the tensors to
tile the data section exactly (no gap, no overlap, nothing after the last one); we enforce the same so a file we accept
is one the reference accepts.

The writer reproduces the reference byte layout: tensors sorted by descending dtype (the reference's enum order, so
larger elements come first and stay aligned) then by name, compact JSON in data order after ``__metadata__``, header
padded with spaces to a multiple of 8. It streams: a producer is called for one tensor at a time.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping

import numpy as np

# The reference refuses headers above 100 MB; a larger length almost always means "not a safetensors file".
MAX_HEADER_BYTES = 100_000_000

# Reference `Dtype` enum order (increasing alignment); the writer sorts by it, descending.
DTYPE_ORDER = (
    "BOOL",
    "U8",
    "I8",
    "F8_E5M2",
    "F8_E4M3",
    "I16",
    "U16",
    "F16",
    "BF16",
    "I32",
    "U32",
    "F32",
    "F64",
    "I64",
    "U64",
)
DTYPE_SIZE = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "F64": 8,
    "I64": 8,
    "U64": 8,
}
# How each dtype is stored on disk; BF16 has no numpy type, it is read as raw uint16 and widened to float32.
_NUMPY_OF = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "I16": np.dtype("<i2"),
    "U16": np.dtype("<u2"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I32": np.dtype("<i4"),
    "U32": np.dtype("<u4"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I64": np.dtype("<i8"),
    "U64": np.dtype("<u8"),
}
_DTYPE_OF_NUMPY = {np.dtype(v).newbyteorder("="): k for k, v in _NUMPY_OF.items() if k != "BF16"}


class SafetensorsError(ValueError):
    """A file that is not a valid safetensors file; the message says what is wrong and where."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str  # safetensors dtype string, e.g. "F16"
    shape: tuple[int, ...]
    begin: int  # byte offset into the data section
    end: int

    @property
    def nbytes(self) -> int:
        return self.end - self.begin


def bf16_bits_to_float32(bits: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) → float32; exact, bf16 is the top half of a float32."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def float32_to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 → bfloat16 bit patterns (uint16), rounding to nearest even like torch; NaN stays NaN."""
    u = np.asarray(x, dtype=np.float32, order="C").view(np.uint32)
    rounded = ((u + np.uint32(0x7FFF) + ((u >> 16) & np.uint32(1))) >> 16).astype(np.uint16)
    return np.where(np.isnan(x), np.uint16(0x7FC0), rounded)


def _shape_size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _parse_entry(name: str, entry: object) -> TensorInfo:
    """Check one header entry's fields and types; offsets are checked against the others later."""
    if not isinstance(entry, dict):
        raise SafetensorsError(f"header entry for tensor '{name}' is not a JSON object: {entry!r:.80}")
    missing = [k for k in ("dtype", "shape", "data_offsets") if k not in entry]
    if missing:
        raise SafetensorsError(f"header entry for tensor '{name}' lacks {', '.join(missing)}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPE_SIZE:
        raise SafetensorsError(f"tensor '{name}' has unknown dtype {dtype!r}; known: {', '.join(DTYPE_ORDER)}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise SafetensorsError(f"tensor '{name}' has an invalid shape {shape!r} (expected a list of integers >= 0)")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
    ):
        raise SafetensorsError(
            f"tensor '{name}' has invalid data_offsets {offsets!r} (expected [begin, end], " f"integers >= 0)"
        )
    begin, end = offsets
    if end < begin:
        raise SafetensorsError(f"tensor '{name}' has data_offsets [{begin}, {end}] with end before begin")
    want = _shape_size(tuple(shape)) * DTYPE_SIZE[dtype]
    if end - begin != want:
        raise SafetensorsError(
            f"tensor '{name}': shape {shape} x {dtype} ({DTYPE_SIZE[dtype]} bytes) = {want} bytes, "
            f"but data_offsets [{begin}, {end}] span {end - begin} bytes"
        )
    return TensorInfo(name, dtype, tuple(shape), begin, end)


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict:
    seen: dict = {}
    for k, v in pairs:
        if k in seen:
            raise SafetensorsError(f"header names tensor '{k}' twice")
        seen[k] = v
    return seen


class SafetensorsFile:
    """Lazy reader: parses and validates the header on open, reads one tensor per `get` call.

    Use as a context manager, or call `close()`.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._file = open(self.path, "rb")
        try:
            self.metadata, self._infos, self._data_start = self._read_header()
        except SafetensorsError as e:
            self._file.close()
            raise SafetensorsError(f"{self.path}: {e}") from None
        except BaseException:
            self._file.close()
            raise

    def _read_header(self) -> tuple[dict[str, str], dict[str, TensorInfo], int]:
        size = os.fstat(self._file.fileno()).st_size
        if size < 8:
            raise SafetensorsError(
                f"file is {size} bytes, shorter than the 8-byte header length " "(empty or truncated download?)"
            )
        (n,) = struct.unpack("<Q", self._file.read(8))
        if n > size - 8:
            hint = " It starts like a zip (PyTorch .pt/.bin?)" if n & 0xFFFFFFFF == 0x04034B50 else ""
            raise SafetensorsError(
                f"header length {n} is larger than the file ({size} bytes); "
                f"this is not a safetensors file or it is truncated.{hint}"
            )
        if n > MAX_HEADER_BYTES:
            raise SafetensorsError(f"header length {n} exceeds the 100 MB limit of the reference reader")
        raw = self._file.read(n)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SafetensorsError(f"header is not valid UTF-8 ({e.reason} at byte {e.start})") from None
        if not text.startswith("{"):
            raise SafetensorsError(f"header is not JSON (starts with {text[:16]!r})")
        try:
            header = json.loads(text, object_pairs_hook=_reject_duplicates)
        except json.JSONDecodeError as e:
            raise SafetensorsError(f"header is not JSON: {e.msg} at character {e.pos}") from None
        meta = header.pop("__metadata__", None) or {}
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise SafetensorsError(f"__metadata__ must map strings to strings, got {meta!r:.80}")
        infos = {name: _parse_entry(name, entry) for name, entry in header.items()}
        self._check_tiling(list(infos.values()), size - 8 - n)
        return meta, infos, 8 + n

    @staticmethod
    def _check_tiling(infos: list[TensorInfo], data_len: int) -> None:
        """Tensors must cover the data section exactly, in offset order, as the reference requires."""
        pos, prev = 0, None
        for info in sorted(infos, key=lambda i: (i.begin, i.end)):
            if info.begin < pos:
                raise SafetensorsError(
                    f"tensor '{info.name}' [{info.begin}, {info.end}] overlaps "
                    f"tensor '{prev.name}' [{prev.begin}, {prev.end}]"
                )
            if info.begin > pos:
                raise SafetensorsError(
                    f"{info.begin - pos} unused bytes before tensor '{info.name}' " f"(data_offsets must be contiguous)"
                )
            pos, prev = info.end, info
        if pos > data_len:
            first_cut = min((i for i in infos if i.end > data_len), key=lambda i: i.begin)
            raise SafetensorsError(
                f"truncated: the header describes {pos} data bytes but the file holds "
                f"{data_len} (tensor '{first_cut.name}' ends at {first_cut.end}); "
                "incomplete download?"
            )
        if pos < data_len:
            raise SafetensorsError(f"{data_len - pos} bytes after the last tensor are not described by " "the header")

    def keys(self) -> list[str]:
        """Tensor names in file (offset) order."""
        return [i.name for i in sorted(self._infos.values(), key=lambda i: i.begin)]

    def info(self, name: str) -> TensorInfo:
        if name not in self._infos:
            raise KeyError(f"no tensor '{name}' in {self.path}")
        return self._infos[name]

    def get(self, name: str) -> np.ndarray:
        """Read one tensor (native-endian numpy array; BF16 is returned as float32, F8 types are refused)."""
        info = self.info(name)
        if info.dtype not in _NUMPY_OF:
            raise SafetensorsError(f"tensor '{name}' has dtype {info.dtype}, which this reader cannot convert")
        disk = _NUMPY_OF[info.dtype]
        out = np.empty(_shape_size(info.shape), dtype=disk)
        self._file.seek(self._data_start + info.begin)
        got = self._file.readinto(memoryview(out).cast("B")) if info.nbytes else 0
        if got != info.nbytes:
            raise SafetensorsError(f"{self.path}: tensor '{name}' truncated ({got} of {info.nbytes} bytes)")
        out = out.astype(disk.newbyteorder("="), copy=False).reshape(info.shape)
        return bf16_bits_to_float32(out) if info.dtype == "BF16" else out

    def items(self) -> Iterator[tuple[str, np.ndarray]]:
        for name in self.keys():
            yield name, self.get(name)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "SafetensorsFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read every tensor of a safetensors file into memory."""
    with SafetensorsFile(path) as f:
        return dict(f.items())


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str  # safetensors dtype string to store
    shape: tuple[int, ...]


def _dtype_of_array(a: np.ndarray) -> str:
    key = a.dtype.newbyteorder("=")
    if key not in _DTYPE_OF_NUMPY:
        raise SafetensorsError(f"cannot store numpy dtype {a.dtype} in safetensors")
    return _DTYPE_OF_NUMPY[key]


def _to_disk_bytes(spec: TensorSpec, a: np.ndarray) -> np.ndarray:
    if tuple(a.shape) != spec.shape:
        raise SafetensorsError(f"tensor '{spec.name}': producer gave shape {tuple(a.shape)}, header says {spec.shape}")
    if spec.dtype == "BF16":
        return float32_to_bf16_bits(a)
    return np.asarray(a, dtype=_NUMPY_OF[spec.dtype], order="C")


def header_bytes(specs: list[TensorSpec], metadata: Mapping[str, str] | None = None) -> tuple[bytes, list[TensorSpec]]:
    """The padded JSON header and the specs in data order (descending dtype, then name, as the reference sorts)."""
    ordered = sorted(specs, key=lambda s: (-DTYPE_ORDER.index(s.dtype), s.name))
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {k: str(metadata[k]) for k in sorted(metadata)}
    pos = 0
    for s in ordered:
        if s.name == "__metadata__" or s.name in header:
            raise SafetensorsError(f"tensor name '{s.name}' is reserved or repeated")
        n = _shape_size(s.shape) * DTYPE_SIZE[s.dtype]
        header[s.name] = {"dtype": s.dtype, "shape": list(s.shape), "data_offsets": [pos, pos + n]}
        pos += n
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return raw + b" " * (-len(raw) % 8), ordered


def file_size(specs: list[TensorSpec], metadata: Mapping[str, str] | None = None) -> int:
    """Bytes of the file ``write_streaming`` would write for ``specs``: length prefix, header and data."""
    head, _ = header_bytes(specs, metadata)
    return 8 + len(head) + sum(_shape_size(s.shape) * DTYPE_SIZE[s.dtype] for s in specs)


def write_streaming(
    path: str | os.PathLike,
    specs: list[TensorSpec],
    produce: Callable[[str], np.ndarray],
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a safetensors file calling `produce(name)` once per tensor, so memory stays at one tensor.

    The file is written under a temporary name and renamed at the end: an interrupted write leaves no
    truncated file behind.
    """
    head, ordered = header_bytes(specs, metadata)
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for spec in ordered:
            f.write(_to_disk_bytes(spec, produce(spec.name)).tobytes(order="C"))
    os.replace(tmp, path)


def save_file(
    tensors: Mapping[str, np.ndarray],
    path: str | os.PathLike,
    metadata: Mapping[str, str] | None = None,
    float_dtype: str | None = None,
) -> None:
    """Write numpy arrays; `float_dtype` ("F16", "BF16", "F32") re-types every floating tensor on the way out."""
    specs = []
    for name, a in tensors.items():
        dtype = _dtype_of_array(a)
        if float_dtype is not None and dtype in ("F16", "F32", "F64"):
            dtype = float_dtype
        specs.append(TensorSpec(name, dtype, tuple(int(d) for d in a.shape)))
    write_streaming(path, specs, lambda name: tensors[name], metadata)
