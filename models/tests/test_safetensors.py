"""The numpy safetensors reader/writer: byte compatibility with the reference, dtypes, and malformed files."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from eva_lens.safetensors_io import (
    SafetensorsError,
    SafetensorsFile,
    TensorSpec,
    bf16_bits_to_float32,
    float32_to_bf16_bits,
    load_file,
    save_file,
    write_streaming,
)


def _raw(header: dict | str | bytes, data: bytes = b"", length: int | None = None) -> bytes:
    """Hand-built file bytes, independent of our writer."""
    if isinstance(header, dict):
        header = json.dumps(header, separators=(",", ":"))
    if isinstance(header, str):
        header = header.encode()
    return struct.pack("<Q", len(header) if length is None else length) + header + data


# --- byte compatibility: expected bytes are the vectors of the reference test suite (safetensors/src/tensor.rs) ---


def test_writer_matches_reference_bytes(tmp_path: Path) -> None:
    p = tmp_path / "a.safetensors"
    save_file({"attn.0": np.arange(6, dtype=np.float32).reshape(1, 2, 3)}, p)
    header = b'{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'  # 64 bytes: no padding
    assert p.read_bytes() == struct.pack("<Q", 64) + header + np.arange(6, dtype="<f4").tobytes()


def test_writer_pads_header_with_spaces_to_8(tmp_path: Path) -> None:
    p = tmp_path / "a.safetensors"
    save_file({"attn0": np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)}, p)
    header = b'{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}' + b" " * 7
    assert p.read_bytes() == struct.pack("<Q", 72) + header + np.arange(6, dtype="<f4").tobytes()


def test_writer_empty_and_metadata_match_reference(tmp_path: Path) -> None:
    p = tmp_path / "a.safetensors"
    save_file({}, p)
    assert p.read_bytes() == bytes([8, 0, 0, 0, 0, 0, 0, 0]) + b"{}" + b" " * 6
    save_file({}, p, metadata={"framework": "pt"})
    assert p.read_bytes() == bytes([40, 0, 0, 0, 0, 0, 0, 0]) + b'{"__metadata__":{"framework":"pt"}}' + b" " * 5
    with SafetensorsFile(p) as f:
        assert f.metadata == {"framework": "pt"} and f.keys() == []


def test_reader_reads_hand_built_file(tmp_path: Path) -> None:
    p = tmp_path / "h.safetensors"
    data = np.array([[1, -2], [3, 4]], dtype="<i4").tobytes()
    p.write_bytes(_raw('{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}', data))
    np.testing.assert_array_equal(load_file(p)["test"], [[1, -2], [3, 4]])


# --- dtypes, order, determinism ---


def _mixed() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "f32": rng.standard_normal((3, 5)).astype(np.float32),
        "f16": rng.standard_normal((7,)).astype(np.float16),
        "i64": np.array([-(2**40), 3, 2**62], dtype=np.int64),
        "i32": np.array([[-5, 7]], dtype=np.int32),
        "u8": np.array([0, 255, 9], dtype=np.uint8),
        "i8": np.array([-128, 127], dtype=np.int8),
        "bool": np.array([True, False, True]),
        "scalar": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }


def test_round_trip_every_dtype(tmp_path: Path) -> None:
    p = tmp_path / "m.safetensors"
    src = _mixed()
    save_file(src, p, metadata={"b": "2", "a": "1"})
    with SafetensorsFile(p) as f:
        assert f.metadata == {"a": "1", "b": "2"}
        for name, a in src.items():
            got = f.get(name)
            assert got.dtype == a.dtype and got.shape == a.shape, name
            np.testing.assert_array_equal(got, a)


def test_data_order_is_descending_dtype_then_name_and_aligned(tmp_path: Path) -> None:
    p = tmp_path / "m.safetensors"
    save_file(_mixed(), p)
    with SafetensorsFile(p) as f:
        assert f.keys() == ["i64", "empty", "f32", "scalar", "i32", "f16", "i8", "u8", "bool"]
        for name in f.keys():
            info = f.info(name)
            assert (f._data_start + info.begin) % np.dtype(f.get(name).dtype).itemsize == 0, name
    head_len = struct.unpack("<Q", p.read_bytes()[:8])[0]
    assert head_len % 8 == 0
    header = p.read_bytes()[8 : 8 + head_len].decode()
    assert list(json.loads(header)) == ["i64", "empty", "f32", "scalar", "i32", "f16", "i8", "u8", "bool"]


def test_writer_is_deterministic_regardless_of_insertion_order(tmp_path: Path) -> None:
    src = _mixed()
    save_file(src, tmp_path / "a.safetensors", metadata={"x": "1", "y": "2"})
    save_file(dict(reversed(list(src.items()))), tmp_path / "b.safetensors", metadata={"y": "2", "x": "1"})
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()
    assert not list(tmp_path.glob("*.partial"))


def test_bf16_matches_torch_rounding_and_reads_as_float32(tmp_path: Path) -> None:
    x = np.random.default_rng(1).standard_normal(1000).astype(np.float32) * 100
    x[:4] = [1.00390625, 1.01171875, np.inf, -0.0]  # ties round to even: 1+2^-8 -> 1, 1+3*2^-8 -> 1+2^-6
    bits = float32_to_bf16_bits(x)
    expected = torch.from_numpy(x).bfloat16().float().numpy()
    np.testing.assert_array_equal(bf16_bits_to_float32(bits), expected)
    p = tmp_path / "b.safetensors"
    save_file({"x": x}, p, float_dtype="BF16")
    with SafetensorsFile(p) as f:
        assert f.info("x").dtype == "BF16"
        got = f.get("x")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


def test_streaming_writer_checks_producer_shape(tmp_path: Path) -> None:
    with pytest.raises(SafetensorsError, match="producer gave shape"):
        write_streaming(tmp_path / "s.safetensors", [TensorSpec("a", "F16", (2, 2))], lambda n: np.zeros(3))
    with pytest.raises(SafetensorsError, match="cannot store numpy dtype complex64"):
        save_file({"c": np.zeros(2, dtype=np.complex64)}, tmp_path / "c.safetensors")


# --- malformed files: each names its problem ---

_T = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
_D8 = bytes(8)
MALFORMED = {
    "short": (b"\x05\x00\x00", "shorter than the 8-byte header length"),
    "header_len_too_big": (_raw("{}", length=1000), "header length 1000 is larger than the file"),
    "zip_renamed": (b"PK\x03\x04" + bytes(60), "starts like a zip"),
    "not_utf8": (_raw(b"{\xff\xfe}"), "not valid UTF-8"),
    "not_json_start": (_raw("hello"), "header is not JSON (starts with 'hello')"),
    "bad_json": (_raw('{"a":{"dtype":'), "header is not JSON: Expecting value"),
    "unknown_dtype": (_raw({"a": {**_T, "dtype": "F42"}}, _D8), "tensor 'a' has unknown dtype 'F42'"),
    "missing_field": (_raw({"a": {"dtype": "F32", "shape": [2]}}, _D8), "'a' lacks data_offsets"),
    "bad_shape": (_raw({"a": {**_T, "shape": [2, -1]}}, _D8), "tensor 'a' has an invalid shape"),
    "negative_offset": (_raw({"a": {**_T, "data_offsets": [-8, 0]}}, _D8), "invalid data_offsets [-8, 0]"),
    "reversed": (_raw({"a": {**_T, "data_offsets": [8, 0]}}, _D8), "end before begin"),
    "size_mismatch": (
        _raw({"a": {**_T, "data_offsets": [0, 4]}}, bytes(4)),
        "shape [2] x F32 (4 bytes) = 8 bytes, but data_offsets [0, 4] span 4 bytes",
    ),
    "overlap": (_raw({"a": _T, "b": {**_T, "data_offsets": [4, 12]}}, bytes(12)), "'b' [4, 12] overlaps tensor 'a'"),
    "gap": (_raw({"a": _T, "b": {**_T, "data_offsets": [12, 20]}}, bytes(20)), "4 unused bytes before tensor 'b'"),
    "truncated": (
        _raw({"a": _T, "b": {**_T, "data_offsets": [8, 16]}}, bytes(11)),
        "truncated: the header describes 16 data bytes but the file holds 11 (tensor 'b' ends at 16)",
    ),
    "trailing": (_raw({"a": _T}, bytes(10)), "2 bytes after the last tensor"),
    "duplicate": (_raw('{"a":' + json.dumps(_T) + ',"a":' + json.dumps(_T) + "}", _D8), "names tensor 'a' twice"),
    "bad_metadata": (_raw({"__metadata__": {"k": 1}}), "__metadata__ must map strings to strings"),
    "entry_not_object": (_raw({"a": [1, 2]}), "header entry for tensor 'a' is not a JSON object"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_gives_its_specific_message(tmp_path: Path, case: str) -> None:
    content, message = MALFORMED[case]
    p = tmp_path / f"{case}.safetensors"
    p.write_bytes(content)
    with pytest.raises(SafetensorsError) as e:
        SafetensorsFile(p)
    assert message in str(e.value)
    assert str(p) in str(e.value)  # the message says which file


def test_f8_is_listed_but_not_converted(tmp_path: Path) -> None:
    p = tmp_path / "f8.safetensors"
    p.write_bytes(_raw({"a": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}, bytes(2)))
    with SafetensorsFile(p) as f, pytest.raises(SafetensorsError, match="F8_E4M3, which this reader cannot convert"):
        f.get("a")


def test_file_size_is_the_size_write_streaming_writes(tmp_path: Path) -> None:
    from eva_lens.safetensors_io import TensorSpec, file_size, write_streaming

    specs = [TensorSpec("b", "F16", (3, 5)), TensorSpec("a", "F32", (7,)), TensorSpec("c", "BF16", ())]
    path = tmp_path / "x.safetensors"
    write_streaming(
        path, specs, lambda name: np.zeros(next(s.shape for s in specs if s.name == name)), {"format": "pt"}
    )
    assert file_size(specs, {"format": "pt"}) == path.stat().st_size
