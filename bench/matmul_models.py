"""Write the graphs of the machine-limit micro-benchmark: a chain of MatMuls in one numeric format, converted by
the toolchain's own quantizers (``eva_lens.quantize``), so the int8/q4/fp16 kernels are the towers' kernels.

Why a chain and not one MatMul (``eva_lens.ort_node.matmul_model``): in Chromium a one-MatMul run of these sizes
spends most of its time moving the input and output across the JS/WASM boundary (measured: 2-4x slower than the
same graph in Node, while whole towers run at Node's speed). ``LAYERS`` MatMuls alternate ``[M, K] @ [K, N]`` and
``[M, N] @ [N, K]``, like a ViT MLP, so the I/O is paid once for ``LAYERS`` products of ``2·M·K·N`` FLOPs each.

Run by ``bench/run.mjs``:
    node scripts/python.mjs bench/matmul_models.py OUT_DIR KINDS SHAPES
with KINDS like ``fp32,int8`` and SHAPES like ``1024x768x2048`` (M×K×N). Prints a JSON list of
``{"kind", "m", "k", "n", "layers", "file"}``, file names relative to OUT_DIR.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from eva_lens import quantize

LAYERS = 8
CONVERTERS = {
    "fp32": lambda model: model,
    "int8": quantize.quantize_int8,
    "q4": quantize.quantize_q4,
    "fp16": quantize.convert_fp16,
}


def matmul_chain(kind: str, m: int, k: int, n: int, layers: int = LAYERS, seed: int = 0) -> onnx.ModelProto:
    """``x [M, K] → (@ W [K, N] → @ W [N, K]) × layers/2 → y [M, K]`` with random weights, in format ``kind``."""
    rng = np.random.default_rng(seed)
    nodes, weights = [], []
    current = "x"
    for layer in range(layers):
        rows, cols = (k, n) if layer % 2 == 0 else (n, k)
        weight = (rng.standard_normal((rows, cols)) / np.sqrt(rows)).astype(np.float32)  # [rows, cols]
        weights.append(numpy_helper.from_array(weight, f"w{layer}"))
        output = "y" if layer == layers - 1 else f"h{layer}"
        nodes.append(helper.make_node("MatMul", [current, f"w{layer}"], [output], name=f"matmul_{layer}"))
        current = output
    out_dim = n if layers % 2 == 1 else k
    graph = helper.make_graph(
        nodes,
        f"matmul_chain_{m}x{k}x{n}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, out_dim])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return CONVERTERS[kind](model)


def main(out_dir: Path, kinds: list[str], shapes: list[tuple[int, int, int]]) -> None:
    unknown = [kind for kind in kinds if kind not in CONVERTERS]
    if unknown:
        raise SystemExit(f"unknown kinds {unknown}; expected some of {sorted(CONVERTERS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for m, k, n in shapes:
        for kind in kinds:
            name = f"matmul-{kind}-{m}x{k}x{n}x{LAYERS}.onnx"
            onnx.save(matmul_chain(kind, m, k, n), str(out_dir / name))
            written.append({"kind": kind, "m": m, "k": k, "n": n, "layers": LAYERS, "file": name})
    json.dump(written, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: matmul_models.py OUT_DIR KINDS SHAPES")
    parsed = [tuple(int(v) for v in shape.split("x")) for shape in sys.argv[3].split(",")]
    main(Path(sys.argv[1]), sys.argv[2].split(","), [(m, k, n) for m, k, n in parsed])
