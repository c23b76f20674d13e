"""On the GPU machine: the B/16 towers from their skeletons (random weights, see skeleton.py) and the MatMul
ceiling graphs, written into one folder for webgpu-node.mjs.

    python3 bench/gpu/make_graphs.py <skeleton dir> <out dir>

A ceiling graph is 8 chained MatMuls ending in a ReduceMean, so one run does 8 large products and downloads one
number: the time is the kernels', not the copy back of a 64 MB result.
"""

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eva_lens import quantize  # noqa: E402
from skeleton import fill  # noqa: E402

CHAIN = 8


def chain_model(m: int, widths: list[int], seed: int = 0) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    nodes, inits, prev = [], [], "x"
    for i in range(CHAIN):
        k, n = widths[i % (len(widths) - 1)], widths[i % (len(widths) - 1) + 1]
        w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"h{i}"], name=f"matmul{i}"))
        prev = f"h{i}"
    nodes.append(helper.make_node("ReduceMean", [prev], ["y"], keepdims=0))
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, widths[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def main(skeletons: str, out: str) -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for skeleton in sorted(Path(skeletons).glob("*.skel.onnx")):
        fill(str(skeleton), str(out_dir / skeleton.name.replace(".skel", "")))
        print("filled", skeleton.name, flush=True)
    converters = {"fp32": lambda mp: mp, "fp16": quantize.convert_fp16, "q4": quantize.quantize_q4}
    for shape, (m, widths) in {
        "4096x4096x4096": (4096, [4096, 4096]),
        "1576x768x3072": (1576, [768, 3072, 768]),
    }.items():
        base = chain_model(m, widths)
        for kind, convert in converters.items():
            onnx.save(convert(base), out_dir / f"matmul.{kind}.{shape}.onnx")
            print("matmul", kind, shape, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
