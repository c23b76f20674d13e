"""Run ONNX graphs in onnxruntime-web (WASM backend) under Node, from Python.

Python here has no onnxruntime, and the app runs onnxruntime-web anyway, so the toolchain checks its graphs with the
same WASM CPU kernels that the browser's fallback backend uses: ``models/tests/ort_run.mjs`` loads the npm package
``onnxruntime-web`` from the repository's ``node_modules``. Tensors cross as raw little-endian files plus a JSON spec
(see the header of ``ort_run.mjs``), so float16 and int64 values travel bit-exactly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence, Union

import numpy as np
import onnx

# models/eva_lens/ort_node.py → repository root (the folder holding package.json and node_modules).
REPO_ROOT = Path(__file__).resolve().parents[2]
RUNNER_SCRIPT = REPO_ROOT / "models" / "tests" / "ort_run.mjs"
ORT_WEB_PACKAGE = REPO_ROOT / "node_modules" / "onnxruntime-web" / "package.json"

# numpy dtype ↔ onnxruntime-web tensor type; float16 travels as raw IEEE half bits.
_DTYPE_NAMES: dict[np.dtype, str] = {
    np.dtype(np.float32): "float32",
    np.dtype(np.float16): "float16",
    np.dtype(np.float64): "float64",
    np.dtype(np.int64): "int64",
    np.dtype(np.int32): "int32",
    np.dtype(np.int8): "int8",
    np.dtype(np.uint8): "uint8",
    np.dtype(np.bool_): "bool",
}
_NUMPY_DTYPES: dict[str, np.dtype] = {name: dtype for dtype, name in _DTYPE_NAMES.items()}

ModelLike = Union[str, Path, onnx.ModelProto]
Feeds = Mapping[str, np.ndarray]


class OrtNodeError(RuntimeError):
    """onnxruntime-web could not be started, or it rejected the model or its inputs (message includes ORT's text)."""


@dataclass
class OrtRunResult:
    """Outputs and timings of one Node process that ran one session over one or more input sets."""

    outputs: list[dict[str, np.ndarray]]  # one dict per input set, keyed by graph output name
    session_create_ms: float  # InferenceSession.create, including WASM instantiation on first use
    run_ms: list[list[float]]  # per input set, one time per repeat (warm-up runs excluded)
    input_names: list[str]
    output_names: list[str]
    ort_version: str | None
    threads: int
    wall_ms: float  # whole Node process, as seen from Python


def node_executable() -> str:
    """Path to ``node`` (``EVA_LENS_NODE`` overrides the PATH lookup); raises ``OrtNodeError`` if there is none."""
    override = os.environ.get("EVA_LENS_NODE")
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise OrtNodeError(f"EVA_LENS_NODE={override!r} is not an executable file")
        return override
    node = shutil.which("node")
    if not node:
        raise OrtNodeError("Node.js ('node') was not found on PATH; install Node 20+ or set EVA_LENS_NODE")
    return node


def check_runtime() -> None:
    """Raise ``OrtNodeError`` with a fix-it message if node, the runner script or onnxruntime-web is missing."""
    node_executable()
    if not RUNNER_SCRIPT.is_file():
        raise OrtNodeError(f"runner script missing: {RUNNER_SCRIPT}")
    if not ORT_WEB_PACKAGE.is_file():
        raise OrtNodeError(
            f"onnxruntime-web is not installed ({ORT_WEB_PACKAGE} missing); run `npm install` in {REPO_ROOT}"
        )


def run_onnx(model: ModelLike, inputs: Feeds, threads: int = 1) -> dict[str, np.ndarray]:
    """Run ``model`` (a path or a ModelProto) once on ``inputs`` in onnxruntime-web/WASM; return outputs by name."""
    return run_onnx_sets(model, [inputs], threads=threads).outputs[0]


def run_onnx_sets(
    model: ModelLike,
    input_sets: Sequence[Feeds],
    threads: int = 1,
    warmup: int = 0,
    repeats: int = 1,
    timeout_s: float = 600.0,
    graph_optimization_level: str = "all",
) -> OrtRunResult:
    """Run several input sets through one session in one Node process (session creation is paid once).

    Args:
        model: path to an ``.onnx`` file, or a ModelProto (written to a temporary file).
        input_sets: one feed dict per run; arrays must be float32/float16/float64/int64/int32/int8/uint8/bool.
        threads: ``ort.env.wasm.numThreads`` (1 = no worker threads).
        warmup: untimed runs before the timed ones, per input set.
        repeats: timed runs per input set; the outputs of the last one are returned.
        timeout_s: kill Node after this long.
        graph_optimization_level: ORT session option ('disabled' | 'basic' | 'extended' | 'all').
    """
    check_runtime()
    with tempfile.TemporaryDirectory(prefix="eva_lens_ort_") as tmp:
        tmp_dir = Path(tmp)
        if isinstance(model, onnx.ModelProto):
            model_path = tmp_dir / "model.onnx"
            model_path.write_bytes(model.SerializeToString())
        else:
            model_path = Path(model).resolve()
            if not model_path.is_file():
                raise OrtNodeError(f"model file not found: {model_path}")

        spec_sets = []
        for set_index, feeds in enumerate(input_sets):
            entries = [_write_input(tmp_dir, set_index, i, name, arr) for i, (name, arr) in enumerate(feeds.items())]
            spec_sets.append(entries)
        out_dir = tmp_dir / "out"
        spec = {
            "model": str(model_path),
            "threads": int(threads),
            "warmup": int(warmup),
            "repeats": int(repeats),
            "graphOptimizationLevel": graph_optimization_level,
            "outputDir": str(out_dir),
            "inputSets": spec_sets,
        }
        spec_path = tmp_dir / "spec.json"
        spec_path.write_text(json.dumps(spec))

        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [node_executable(), str(RUNNER_SCRIPT), str(spec_path)],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired as err:
            raise OrtNodeError(f"onnxruntime-web run timed out after {timeout_s:.0f} s ({model_path.name})") from err
        wall_ms = (time.perf_counter() - start) * 1000.0

        result_path = out_dir / "result.json"
        result = json.loads(result_path.read_text()) if result_path.is_file() else None
        if result is None or not result.get("ok"):
            stage = result.get("stage", "?") if result else "start"
            message = result.get("error", "") if result else ""
            raise OrtNodeError(
                f"onnxruntime-web failed at stage '{stage}' for {model_path.name}: {message or '(no message)'}"
                f"\n--- node stderr (exit {proc.returncode}) ---\n{proc.stderr.strip()[-4000:]}"
            )

        outputs = [{o["name"]: _read_output(o) for o in run["outputs"]} for run in result["runs"]]
        return OrtRunResult(
            outputs=outputs,
            session_create_ms=float(result["sessionCreateMs"]),
            run_ms=[[float(t) for t in run["runMs"]] for run in result["runs"]],
            input_names=list(result["inputNames"]),
            output_names=list(result["outputNames"]),
            ort_version=result.get("ortVersion"),
            threads=int(result["threads"]),
            wall_ms=wall_ms,
        )


def _write_input(tmp_dir: Path, set_index: int, index: int, name: str, array: np.ndarray) -> dict:
    """Write one input as raw little-endian bytes and return its spec entry."""
    array = np.asarray(array)
    dtype_name = _DTYPE_NAMES.get(array.dtype.newbyteorder("="))
    if dtype_name is None:
        raise OrtNodeError(f"input '{name}': dtype {array.dtype} is not supported (use one of {sorted(_NUMPY_DTYPES)})")
    path = tmp_dir / f"in_{set_index}_{index}.bin"
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    path.write_bytes(np.ascontiguousarray(little).tobytes())
    return {"name": name, "dtype": dtype_name, "dims": [int(d) for d in array.shape], "file": str(path)}


def _read_output(desc: dict) -> np.ndarray:
    dtype = _NUMPY_DTYPES.get(desc["dtype"])
    if dtype is None:
        raise OrtNodeError(f"output '{desc['name']}': unsupported dtype {desc['dtype']}")
    data = np.fromfile(desc["file"], dtype=dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype)
    return data.astype(dtype, copy=False).reshape(desc["dims"])


# ----------------------------------------------------------------------------------------------------------------
# Micro-benchmark


def matmul_model(kind: str, m: int, k: int, n: int, seed: int = 0) -> onnx.ModelProto:
    """One ``Y[M, N] = X[M, K] @ W[K, N]`` graph with random weights, in the numeric format ``kind``.

    ``kind`` is 'fp32', 'int8' (DynamicQuantizeLinear + MatMulInteger), 'q4' (MatMulNBits, block 32) or 'fp16'
    (fp16 weights and compute, float32 graph I/O), built with ``eva_lens.quantize`` exactly as the towers are.
    """
    from onnx import TensorProto, helper, numpy_helper

    from eva_lens import quantize

    rng = np.random.default_rng(seed)
    weight = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)  # [K, N]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")],
        f"matmul_{m}x{k}x{n}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    converters = {
        "fp32": lambda mp: mp,
        "int8": quantize.quantize_int8,
        "q4": quantize.quantize_q4,
        "fp16": quantize.convert_fp16,
    }
    if kind not in converters:
        raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(converters)}")
    return converters[kind](model)


def matmul_gflops(
    kind: str, m: int, k: int, n: int, threads: int = 1, repeats: int = 5, warmup: int = 1
) -> dict[str, float]:
    """Time ``[M, K] @ [K, N]`` in onnxruntime-web/WASM under Node for one numeric format.

    Returns ``{"gflops", "median_ms", "min_ms", "session_create_ms", "model_bytes"}``; GFLOP/s counts 2·M·K·N
    operations over the median run time. Not a test: the benchmark and the report use it to choose dtypes.
    """
    model = matmul_model(kind, m, k, n)
    x = np.random.default_rng(1).standard_normal((m, k)).astype(np.float32)
    result = run_onnx_sets(model, [{"x": x}], threads=threads, warmup=warmup, repeats=repeats)
    times = np.array(result.run_ms[0])
    median_ms = float(np.median(times))
    return {
        "gflops": 2.0 * m * k * n / (median_ms * 1e-3) / 1e9,
        "median_ms": median_ms,
        "min_ms": float(times.min()),
        "session_create_ms": result.session_create_ms,
        "model_bytes": float(len(model.SerializeToString())),
    }
