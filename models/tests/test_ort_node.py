"""The Python → Node → onnxruntime-web bridge: dtypes, several input sets, timings and error messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from eva_lens import ort_node
from eva_lens.ort_node import OrtNodeError, run_onnx, run_onnx_sets

try:
    ort_node.check_runtime()
except OrtNodeError as err:  # pragma: no cover - only without node / npm install
    pytest.skip(f"onnxruntime-web unavailable: {err}", allow_module_level=True)

DTYPES = {
    "f32": (TensorProto.FLOAT, np.float32),
    "f16": (TensorProto.FLOAT16, np.float16),
    "i64": (TensorProto.INT64, np.int64),
    "i32": (TensorProto.INT32, np.int32),
}


def make_model(nodes, inputs, outputs, initializers=()) -> onnx.ModelProto:
    model = helper.make_model(
        helper.make_graph(nodes, "test", inputs, outputs, list(initializers)),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    model.ir_version = 8
    return model


def identity_model() -> onnx.ModelProto:
    """One Identity per dtype: what goes in must come back bit for bit."""
    nodes, inputs, outputs = [], [], []
    for key, (elem, _) in DTYPES.items():
        nodes.append(helper.make_node("Identity", [f"in_{key}"], [f"out_{key}"]))
        inputs.append(helper.make_tensor_value_info(f"in_{key}", elem, ["a", "b"]))
        outputs.append(helper.make_tensor_value_info(f"out_{key}", elem, ["a", "b"]))
    return make_model(nodes, inputs, outputs)


def scale_model() -> onnx.ModelProto:
    """y = 2 x, float32 [n]."""
    return make_model(
        [helper.make_node("Mul", ["x", "two"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])],
        [numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")],
    )


def test_dtypes_round_trip_bit_exact():
    rng = np.random.default_rng(0)
    halves = np.array([[0.0, -0.0, 65504.0], [np.inf, 6.0e-8, -1.5]], dtype=np.float16)
    feeds = {
        "in_f32": rng.standard_normal((2, 3)).astype(np.float32),
        "in_f16": halves,
        "in_i64": np.array([[2**40, -(2**50), 49407], [0, -1, 2**62]], dtype=np.int64),
        "in_i32": np.array([[2**31 - 1, -(2**31), 5]], dtype=np.int32),
    }
    out = run_onnx(identity_model(), feeds)
    for key, (_, dtype) in DTYPES.items():
        got, sent = out[f"out_{key}"], feeds[f"in_{key}"]
        assert got.dtype == dtype and got.shape == sent.shape
        assert got.tobytes() == sent.tobytes()


def test_model_path_and_several_input_sets(tmp_path: Path):
    path = tmp_path / "scale.onnx"
    onnx.save(scale_model(), str(path))
    sets = [{"x": np.arange(n, dtype=np.float32)} for n in (1, 4, 9)]
    result = run_onnx_sets(path, sets, warmup=1, repeats=3)
    for feeds, outputs in zip(sets, result.outputs):
        np.testing.assert_array_equal(outputs["y"], 2 * feeds["x"])
    assert result.input_names == ["x"] and result.output_names == ["y"]
    assert result.ort_version == "1.30.0" and result.threads == 1
    assert result.session_create_ms > 0 and [len(r) for r in result.run_ms] == [3, 3, 3]
    assert result.wall_ms > result.session_create_ms


def test_two_threads():
    x = np.random.default_rng(1).standard_normal(1000).astype(np.float32)
    result = run_onnx_sets(scale_model(), [{"x": x}], threads=2)
    assert result.threads == 2
    np.testing.assert_array_equal(result.outputs[0]["y"], 2 * x)


def test_big_endian_input_is_converted():
    x = np.arange(5, dtype=">f4")
    np.testing.assert_array_equal(run_onnx(scale_model(), {"x": x})["y"], 2 * np.arange(5, dtype=np.float32))


def test_missing_model_file(tmp_path: Path):
    with pytest.raises(OrtNodeError, match="model file not found"):
        run_onnx(tmp_path / "nope.onnx", {"x": np.zeros(1, np.float32)})


def test_corrupt_model_reports_create_stage(tmp_path: Path):
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(b"this is not a protobuf" * 10)
    with pytest.raises(OrtNodeError, match="stage 'create'") as info:
        run_onnx(path, {"x": np.zeros(1, np.float32)})
    assert "corrupt.onnx" in str(info.value)


def test_unknown_op_includes_ort_message():
    model = make_model(
        [helper.make_node("NoSuchOp", ["x"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    with pytest.raises(OrtNodeError, match="stage 'create'.*NoSuchOp"):
        run_onnx(model, {"x": np.zeros(1, np.float32)})


def test_wrong_input_name_and_type():
    with pytest.raises(OrtNodeError, match=r"stage 'input'.*unknown \[wrong_name\], missing \[x\]"):
        run_onnx(scale_model(), {"wrong_name": np.zeros(1, np.float32)})
    with pytest.raises(OrtNodeError, match="stage 'run'") as info:
        run_onnx(scale_model(), {"x": np.zeros(1, np.int32)})
    assert "Unexpected input data type" in str(info.value)  # ORT's own words come through


def test_unsupported_numpy_dtype():
    with pytest.raises(OrtNodeError, match="complex64"):
        run_onnx(scale_model(), {"x": np.zeros(1, np.complex64)})


def test_missing_node(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("EVA_LENS_NODE", str(tmp_path / "no-node"))
    with pytest.raises(OrtNodeError, match="EVA_LENS_NODE"):
        run_onnx(scale_model(), {"x": np.zeros(1, np.float32)})
    monkeypatch.delenv("EVA_LENS_NODE")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OrtNodeError, match="not found on PATH"):
        run_onnx(scale_model(), {"x": np.zeros(1, np.float32)})


def test_missing_node_modules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(ort_node, "ORT_WEB_PACKAGE", tmp_path / "node_modules" / "onnxruntime-web" / "package.json")
    with pytest.raises(OrtNodeError, match="npm install"):
        run_onnx(scale_model(), {"x": np.zeros(1, np.float32)})


def test_runner_outside_repo_reports_load_stage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The .mjs itself explains a failed import (here: no node_modules above the script)."""
    script = tmp_path / "ort_run.mjs"
    shutil.copy(ort_node.RUNNER_SCRIPT, script)
    monkeypatch.setattr(ort_node, "RUNNER_SCRIPT", script)
    with pytest.raises(OrtNodeError, match="stage 'load'.*onnxruntime-web"):
        run_onnx(scale_model(), {"x": np.zeros(1, np.float32)})


def test_matmul_gflops_smoke():
    stats = ort_node.matmul_gflops("int8", 8, 64, 32, repeats=2)
    assert stats["gflops"] > 0 and stats["median_ms"] > 0 and stats["model_bytes"] > 64 * 32
    with pytest.raises(ValueError, match="unknown kind"):
        ort_node.matmul_model("int3", 8, 64, 32)
