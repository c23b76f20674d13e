"""Graph skeletons and their weight map (issue #9): what the browser needs to build a tower's ONNX from the official
``open_clip_model.safetensors`` without Python.

A *skeleton* is the exported fp32 graph with every weight initializer's bytes left out (name, shape and dtype kept;
shapes, axes and other small integer constants stay). The *weight map* says, for each left-out initializer, which
hub tensor it comes from and what to do to it: the exporter stores ``x @ W.T`` weights transposed (and renames
them ``onnx::MatMul_N``), and the text tower's fused attention ``in_proj_weight`` ``[3w, w]`` arrives as three
``[w, w]`` slices, each transposed. The map is found, not written by hand: with random weights every tensor is
unique, so each initializer is matched by value against the checkpoint's tensors and their slices and transposes,
and a test re-applies the map to the checkpoint and compares with the exported graph bit for bit.
"""

from __future__ import annotations

import hashlib
from typing import Mapping

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from eva_lens.checkpoint import eva_to_open_clip_name

#: Initializers smaller than this and every non-float one stay in the skeleton (shapes, axes, small constants).
KEEP_BYTES = 64


def _key(array: np.ndarray) -> str:
    data = np.ascontiguousarray(array, dtype=np.float32)
    return f"{list(data.shape)}:{hashlib.sha1(data.tobytes()).hexdigest()}"


def _candidates(name: str, value: np.ndarray) -> list[tuple[list[dict], np.ndarray]]:
    """The tensors an initializer may be, from one checkpoint tensor: itself, its transpose, thirds of its rows."""
    out: list[tuple[list[dict], np.ndarray]] = [([], value)]
    if value.ndim == 2:
        out.append(([{"op": "transpose"}], value.T))
        rows = value.shape[0]
        if rows % 3 == 0:
            third = rows // 3
            for i in range(3):
                part = value[i * third:(i + 1) * third]
                start = {"op": "slice_rows", "start": i * third, "end": (i + 1) * third}
                out.append(([start], part))
                out.append(([start, {"op": "transpose"}], part.T))
    elif value.ndim == 1 and value.shape[0] % 3 == 0:
        third = value.shape[0] // 3
        for i in range(3):
            out.append(([{"op": "slice_rows", "start": i * third, "end": (i + 1) * third}], value[i * third:(i + 1) * third]))
    return out


def weight_map(graph: onnx.ModelProto, eva_state: Mapping[str, np.ndarray]) -> dict[str, dict]:
    """For each float initializer of ``graph`` larger than KEEP_BYTES: its hub tensor name, the EVA name, the ops.

    Raises ValueError naming the initializers no checkpoint tensor explains (an export change must update this).
    """
    index: dict[str, tuple[str, list[dict]]] = {}
    for name, value in eva_state.items():
        value = np.asarray(value, dtype=np.float32)
        for ops, candidate in _candidates(name, value):
            index.setdefault(_key(candidate), (name, ops))
    result: dict[str, dict] = {}
    unexplained = []
    for tensor in graph.graph.initializer:
        if tensor.data_type != TensorProto.FLOAT:
            continue
        array = numpy_helper.to_array(tensor)
        if array.nbytes <= KEEP_BYTES:
            continue
        # An initializer that kept its parameter's name is that parameter (freshly initialised biases and norms are
        # all zeros or ones, so values alone could not tell them apart); renamed ones are found by value.
        same = eva_state.get(tensor.name)
        hit = (tensor.name, []) if same is not None and tuple(np.shape(same)) == array.shape else index.get(_key(array))
        if hit is None:
            unexplained.append(f"{tensor.name} {list(array.shape)}")
            continue
        eva_name, ops = hit
        result[tensor.name] = {
            "hub": eva_to_open_clip_name(eva_name),
            "eva": eva_name,
            "shape": list(array.shape),
            "ops": ops,
        }
    if unexplained:
        raise ValueError("no checkpoint tensor explains these initializers: " + ", ".join(unexplained))
    return result


def apply_ops(value: np.ndarray, ops: list[dict]) -> np.ndarray:
    """What the browser does to a hub tensor to get the initializer (the reference for the TypeScript port)."""
    out = np.asarray(value, dtype=np.float32)
    for op in ops:
        if op["op"] == "transpose":
            out = out.T
        elif op["op"] == "slice_rows":
            out = out[op["start"]:op["end"]]
        else:
            raise ValueError(f"unknown op {op['op']!r}")
    return np.ascontiguousarray(out)


def strip(graph: onnx.ModelProto, mapped: Mapping[str, dict]) -> onnx.ModelProto:
    """A copy of ``graph`` with the mapped initializers' bytes left out (name, dims and dtype kept)."""
    skeleton = onnx.ModelProto()
    skeleton.CopyFrom(graph)
    for tensor in skeleton.graph.initializer:
        if tensor.name in mapped:
            tensor.ClearField("raw_data")
            tensor.ClearField("float_data")
    return skeleton
