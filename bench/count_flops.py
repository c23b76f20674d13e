"""Count the multiply-add FLOPs of an ONNX tower from its own graph: 2·M·K·N for every MatMul, Gemm and
MatMulInteger, and 2·Cout·Hout·Wout·(Cin/groups)·kh·kw for every Conv, with the shapes the graph
has at a fixed input size. Element-wise work (LayerNorm, Softmax, activations, RoPE) is left out: a few percent
of the total, and not what the MatMul kernels' GFLOP/s describe.

ONNX shape inference alone loses the shapes where an exporter computes them at run time (`Shape → Gather →
Unsqueeze → Slice/Reshape`), so shape inference alternates with folding those small integer subgraphs into
constants until every MatMul shape is known.

Give it the fp32 (or int8) graphs: ONNX shape inference does not know the contrib op MatMulNBits of the q4 ones.
Run by ``bench/run.mjs``:
    node scripts/python.mjs bench/count_flops.py IMAGE_ONNX TEXT_ONNX CONTEXT_LENGTH
prints ``{"image": {"flopsPerImage": F}, "text": {"flopsPerPromptBySeqLen": {"2": F, …}}}`` (batch 1).
"""
from __future__ import annotations

import json
import sys
from math import prod
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

# Initializers above this many elements are weights: only their dims matter, so their bytes are dropped.
_WEIGHT_ELEMENTS = 1024
# Folding is for shape arithmetic; anything bigger stays a graph value.
_MAX_FOLDED_ELEMENTS = 4096


def _strip_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose large initializers keep their dims but not their bytes."""
    stripped = onnx.ModelProto()
    stripped.CopyFrom(model)
    for index, init in enumerate(stripped.graph.initializer):
        if prod(init.dims) > _WEIGHT_ELEMENTS:
            stripped.graph.initializer[index].CopyFrom(
                TensorProto(name=init.name, data_type=init.data_type, dims=list(init.dims))
            )
    return stripped


def _attr(node: onnx.NodeProto, name: str, default: object = None) -> object:
    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default


def _slice(node: onnx.NodeProto, x: np.ndarray, starts, ends, axes=None, steps=None) -> np.ndarray:
    axes = list(range(len(starts))) if axes is None else list(axes)
    steps = [1] * len(starts) if steps is None else list(steps)
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        index[int(axis)] = slice(int(start), int(end), int(step))
    return x[tuple(index)]


# op type → numpy evaluation of (node, *input arrays); only ops that appear in shape arithmetic.
_FOLDERS: dict[str, Callable[..., np.ndarray]] = {
    "Gather": lambda n, x, i: np.take(x, i, axis=int(_attr(n, "axis", 0))),
    "Unsqueeze": lambda n, x, axes: np.expand_dims(x, tuple(int(a) for a in axes)),
    "Squeeze": lambda n, x, axes=None: np.squeeze(x, None if axes is None else tuple(int(a) for a in axes)),
    "Concat": lambda n, *xs: np.concatenate(xs, axis=int(_attr(n, "axis"))),
    "Slice": _slice,
    "Cast": lambda n, x: x.astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[int(_attr(n, "to"))]),
    "Add": lambda n, a, b: a + b,
    "Sub": lambda n, a, b: a - b,
    "Mul": lambda n, a, b: a * b,
    "Div": lambda n, a, b: (a // b) if a.dtype.kind in "iu" else a / b,
    "Equal": lambda n, a, b: np.equal(a, b),
    "Greater": lambda n, a, b: np.greater(a, b),
    "Where": lambda n, c, a, b: np.where(c, a, b),
    "Range": lambda n, start, limit, delta: np.arange(start, limit, delta, dtype=start.dtype),
    "Reshape": lambda n, x, shape: x.reshape([d if d != 0 else x.shape[i] for i, d in enumerate(shape)]),
    "ConstantOfShape": lambda n, shape: np.full(
        shape, numpy_helper.to_array(_attr(n, "value")).item() if _attr(n, "value") is not None else 0.0
    ),
}


def _known_shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    """Fully static shapes of the graph's values (inputs, inferred values, outputs, initializers)."""
    shapes: dict[str, list[int]] = {}
    for info in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
        tensor_type = info.type.tensor_type
        if tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in tensor_type.shape.dim):
            shapes[info.name] = [d.dim_value for d in tensor_type.shape.dim]
    for init in model.graph.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


def _fold_once(model: onnx.ModelProto) -> onnx.ModelProto | None:
    """Infers shapes, folds every Shape of a known shape and every small op of known inputs; None if nothing folds."""
    inferred = shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=True)
    shapes = _known_shapes(inferred)
    values: dict[str, np.ndarray] = {
        init.name: numpy_helper.to_array(init)
        for init in model.graph.initializer
        if prod(init.dims) <= _WEIGHT_ELEMENTS
    }
    kept: list[onnx.NodeProto] = []
    folded: list[TensorProto] = []
    for node in model.graph.node:
        result: np.ndarray | None = None
        if node.op_type == "Constant" and _attr(node, "value") is not None:
            result = numpy_helper.to_array(_attr(node, "value"))
        elif node.op_type == "Shape" and node.input[0] in shapes:
            shape = shapes[node.input[0]]
            start, end = int(_attr(node, "start", 0)), _attr(node, "end", None)
            result = np.array(shape[start : None if end is None else int(end)], dtype=np.int64)
        elif node.op_type in _FOLDERS and all(name == "" or name in values for name in node.input):
            args = [values[name] if name else None for name in node.input]
            while args and args[-1] is None:
                args.pop()
            result = np.asarray(_FOLDERS[node.op_type](node, *args))
        if result is not None and result.size <= _MAX_FOLDED_ELEMENTS and len(node.output) == 1:
            values[node.output[0]] = result
            if node.op_type != "Constant":
                folded.append(numpy_helper.from_array(result, node.output[0]))
                continue
        kept.append(node)
    if not folded:
        return None
    out = onnx.ModelProto()
    out.CopyFrom(inferred)
    del out.graph.node[:]
    out.graph.node.extend(kept)
    out.graph.initializer.extend(folded)
    del out.graph.value_info[:]
    return out


def _with_fixed_input(model: onnx.ModelProto, dims: list[int]) -> onnx.ModelProto:
    """The graph at one input size, with its shape arithmetic folded and every shape inferred."""
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    for dim, value in zip(fixed.graph.input[0].type.tensor_type.shape.dim, dims):
        dim.ClearField("dim_param")
        dim.dim_value = value
    del fixed.graph.value_info[:]
    while (folded := _fold_once(fixed)) is not None:
        fixed = folded
    return shape_inference.infer_shapes(fixed, check_type=False, strict_mode=False, data_prop=True)


def count_flops(model: onnx.ModelProto) -> int:
    """2·MACs of every matrix product and Conv in a graph of static shapes; raises if a shape is unknown."""
    shapes = _known_shapes(model)
    total = 0
    for node in model.graph.node:
        if node.op_type not in ("MatMul", "MatMulInteger", "Gemm", "Conv"):
            continue
        names = (node.input[0], node.input[1], node.output[0])
        missing = [name for name in names if name not in shapes]
        if missing:
            raise ValueError(f"{node.op_type} {node.name}: no static shape for {missing}")
        a, b, y = (shapes[name] for name in names)
        if node.op_type == "Conv":
            total += 2 * prod(y) * prod(b[1:])  # y [N, Cout, H, W]; w [Cout, Cin/groups, kh, kw]
        elif node.op_type == "Gemm":
            total += 2 * prod(y) * (a[0] if _attr(node, "transA", 0) else a[1])
        else:
            total += 2 * prod(y) * a[-1]  # each output element is a dot product over a's last dim
    return total


def main(image_path: str, text_path: str, context_length: int) -> None:
    image = _strip_weights(onnx.load(image_path))
    size = image.graph.input[0].type.tensor_type.shape.dim[2].dim_value
    text = _strip_weights(onnx.load(text_path))
    by_length = {
        str(length): count_flops(_with_fixed_input(text, [1, length])) for length in range(2, context_length + 1)
    }
    json.dump(
        {
            "method": "2*M*K*N per MatMul/Gemm/MatMulInteger and 2*Cout*Hout*Wout*Cin*kh*kw per Conv, "
            "shapes from the ONNX graph at batch 1 (bench/count_flops.py); element-wise ops not counted",
            "image": {"inputSize": size, "flopsPerImage": count_flops(_with_fixed_input(image, [1, 3, size, size]))},
            "text": {"flopsPerPromptBySeqLen": by_length},
        },
        sys.stdout,
    )


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: count_flops.py IMAGE_ONNX TEXT_ONNX CONTEXT_LENGTH")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
