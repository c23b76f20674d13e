"""Numeric-format conversions of an exported ONNX tower: dynamic int8, 4-bit MatMulNBits, and fp16.

Pure ``onnx`` + ``numpy``. Every function takes an ``onnx.ModelProto`` and returns a new one (the input is not
modified); graph inputs and outputs keep their names and float32 type, so the engine feeds every variant alike.

All weight maths is deterministic and written so that a TypeScript port can reproduce it bit for bit:

* Arithmetic is IEEE-754 float32, each operation rounded to float32 (numpy float32 arrays; in JS wrap every
  ``+ - * /`` in ``Math.fround`` — a float64 operation on two float32 values rounded once to float32 is exactly the
  float32 result for these four operations).
* ``round`` is ``np.round``: round half to even (``round(0.5) = 0``, ``round(1.5) = 2``, ``round(-2.5) = -2``).
  JS ``Math.round`` rounds half up, so the port needs its own ``roundHalfEven``.
* ``max|w|`` and ``min``/``max`` are exact (no rounding). NaN weights are not supported.
* float32 → float16 is round-to-nearest-even (numpy ``astype(np.float16)``), after the clamps of
  :func:`float32_to_float16`.

Formats:

* int8 (:func:`quantize_int8`): for onnxruntime-web's WASM backend. A ``MatMul``/``Gemm`` with a constant 2-D
  weight becomes ``DynamicQuantizeLinear(A) → MatMulInteger(A_u8, W_i8, a_zp, 0) → Cast(float)``
  ``→ Mul(a_scale · w_scale)``.
* q4 (:func:`quantize_q4`): for WebGPU (and WASM). The same nodes become ``com.microsoft.MatMulNBits`` with
  asymmetric per-block uint4 weights.
* In both, a large ``Gather`` table (the token embedding) becomes an int8 per-row table, because it is the biggest
  tensor of the text tower and a row lookup needs no integer kernel.
* fp16 (:func:`convert_fp16`): fp16 weights and compute for GPUs with ``shader-f16``; float32 graph I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT8_QMAX = 127  # symmetric int8 range [-127, 127]; -128 is never produced, so negation stays in range
Q4_QMAX = 15  # uint4 codes [0, 15]
Q4_DEFAULT_ZERO_POINT = 8  # code and zero point of an all-zero block (dequantizes to exactly 0)
Q8_QMAX = 255
Q8_DEFAULT_ZERO_POINT = 128
GATHER_MIN_ROWS = 1024  # only vocab-sized tables are quantized; small lookup tables stay float32
FP16_MAX = 65504.0  # largest finite float16
FP16_MASK_VALUE = -1.0e4  # replaces -inf and float32 "minus infinity" sentinels (masks): finite with headroom
MS_DOMAIN = "com.microsoft"

# Inputs that carry floating-point data, per op allowed in an fp32 island (see convert_fp16).
_FLOAT_INPUTS: dict[str, tuple[int, ...]] = {
    "LayerNormalization": (0, 1, 2),
    "Softmax": (0,),
    "LogSoftmax": (0,),
    "ReduceMean": (0,),
    "ReduceSum": (0,),
    "ReduceL2": (0,),
    "Pow": (0, 1),
    "Sqrt": (0,),
    "Div": (0, 1),
    "Exp": (0,),
    "Erf": (0,),
}
DEFAULT_FP32_OPS: tuple[str, ...] = ("LayerNormalization", "Softmax")

# Inputs that the ONNX spec types as float32 whatever the data type is (Resize scales): always fed float32.
_FP32_ONLY_INPUTS: dict[str, tuple[int, ...]] = {"Resize": (2,), "Upsample": (1,)}


# ---------------------------------------------------------------------------------------------------------------
# Weight maths (the TypeScript port mirrors these functions)


def quantize_int8_columns(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-output-channel int8 quantization of a ``[K, N]`` weight.

    For each column n (float32 throughout)::

        scale[n] = max_k |w[k, n]| / 127          (scale[n] = 1 when the column is all zeros)
        q[k, n]  = clip(round_half_even(w[k, n] / scale[n]), -127, 127)

    Dequantized weight: ``q[k, n] * scale[n]`` (zero point 0).

    Returns:
        ``(q [K, N] int8, scale [N] float32)``.
    """
    w = np.asarray(weight, dtype=np.float32)  # [K, N]
    if w.ndim != 2:
        raise ValueError(f"expected a 2-D weight, got shape {w.shape}")
    absmax = np.max(np.abs(w), axis=0)  # [N]
    scale = absmax / np.float32(INT8_QMAX)  # [N] float32
    scale = np.where(scale == 0, np.float32(1.0), scale).astype(np.float32)
    q = np.clip(np.round(w / scale[None, :]), -INT8_QMAX, INT8_QMAX).astype(np.int8)  # [K, N]
    return q, scale


def quantize_int8_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row int8 quantization of an embedding table ``[V, D]``: :func:`quantize_int8_columns` of its
    transpose, i.e. ``scale[v] = max_d |t[v, d]| / 127`` and ``q[v, d] = clip(round_half_even(t[v, d] / scale[v]))``.

    Returns:
        ``(q [V, D] int8, scale [V] float32)``.
    """
    q_t, scale = quantize_int8_columns(np.asarray(table, dtype=np.float32).T)
    return np.ascontiguousarray(q_t.T), scale


@dataclass(frozen=True)
class Q4Weight:
    """A ``[K, N]`` weight in the MatMulNBits layout (onnxruntime ContribOperators.md, ``com.microsoft.MatMulNBits``).

    ``packed[n, b, j]`` holds the codes of rows ``k = b*block_size + 2j`` (low nibble) and ``2j + 1`` (high nibble)
    of column n; ``zero_points[n, j]`` holds the zero points of blocks ``2j`` (low nibble) and ``2j + 1`` (high
    nibble; 0 when the block count is odd). Rows past K (padding) have code = zero point.
    """

    packed: np.ndarray  # [N, k_blocks, block_size // 2] uint8
    scales: np.ndarray  # [N, k_blocks] float32
    zero_points: np.ndarray  # [N, ceil(k_blocks / 2)] uint8
    k: int
    n: int
    block_size: int


def _asymmetric_blocks(
    weight: np.ndarray, block_size: int, qmax: int, empty_code: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes ``[N, k_blocks, block_size]`` uint8, scales ``[N, k_blocks]`` float32 and zero points ``[N, k_blocks]``
    uint8 of a ``[K, N]`` weight, quantized per block along K with codes in ``[0, qmax]`` (maths: see
    :func:`quantize_q4_blocks`). K is zero-padded to a whole number of blocks."""
    w = np.asarray(weight, dtype=np.float32)  # [K, N]
    if w.ndim != 2:
        raise ValueError(f"expected a 2-D weight, got shape {w.shape}")
    k, n = w.shape
    k_blocks = -(-k // block_size)
    padded = np.zeros((k_blocks * block_size, n), dtype=np.float32)
    padded[:k] = w
    blocks = np.ascontiguousarray(padded.T).reshape(n, k_blocks, block_size)  # [N, kb, bs]
    lo = np.minimum(blocks.min(axis=2), np.float32(0))  # [N, kb]
    hi = np.maximum(blocks.max(axis=2), np.float32(0))  # [N, kb]
    scale = ((hi - lo) / np.float32(qmax)).astype(np.float32)  # [N, kb]
    empty = scale == 0
    safe_scale = np.where(empty, np.float32(1), scale).astype(np.float32)
    zp = np.clip(np.round(-lo / safe_scale), 0, qmax)  # [N, kb] float32
    zp = np.where(empty, np.float32(empty_code), zp)
    codes = np.clip(np.round(blocks / safe_scale[:, :, None]) + zp[:, :, None], 0, qmax)  # [N, kb, bs]
    codes = np.where(empty[:, :, None], np.float32(empty_code), codes).astype(np.uint8)
    return codes, scale, zp.astype(np.uint8)


def quantize_q4_blocks(weight: np.ndarray, block_size: int = 32) -> Q4Weight:
    """Asymmetric 4-bit block quantization of a ``[K, N]`` weight along K, packed for MatMulNBits.

    K is padded with zero rows up to ``k_blocks * block_size`` (``k_blocks = ceil(K / block_size)``). For each
    column n and block b with values ``v`` (float32 throughout)::

        lo    = min(0, min(v))                     hi = max(0, max(v))     (the range always contains 0)
        scale = (hi - lo) / 15
        zp    = clip(round_half_even(-lo / scale), 0, 15)
        q     = clip(round_half_even(v / scale) + zp, 0, 15)
        (a block with scale == 0, i.e. all zeros: zp = 8, q = 8)

    Dequantized weight: ``(q - zp) * scale``.
    """
    if block_size < 16 or block_size & (block_size - 1):
        raise ValueError(f"block_size must be a power of two >= 16, got {block_size}")
    codes, scale, zp = _asymmetric_blocks(weight, block_size, Q4_QMAX, Q4_DEFAULT_ZERO_POINT)
    k, n = np.asarray(weight).shape
    k_blocks = scale.shape[1]
    packed = (codes[:, :, 0::2] | (codes[:, :, 1::2] << 4)).astype(np.uint8)  # [N, kb, bs/2]
    zp_even = np.zeros((n, k_blocks + (k_blocks & 1)), dtype=np.uint8)
    zp_even[:, :k_blocks] = zp
    zp_packed = (zp_even[:, 0::2] | (zp_even[:, 1::2] << 4)).astype(np.uint8)  # [N, ceil(kb/2)]
    return Q4Weight(packed=packed, scales=scale, zero_points=zp_packed, k=k, n=n, block_size=block_size)


@dataclass(frozen=True)
class Q8Weight:
    """A ``[K, N]`` weight for MatMulNBits ``bits=8``: one code per byte, one zero point per byte."""

    codes: np.ndarray  # [N, k_blocks, block_size] uint8
    scales: np.ndarray  # [N, k_blocks] float32
    zero_points: np.ndarray  # [N, k_blocks] uint8
    k: int
    n: int
    block_size: int


def unpack_q4_codes(q4: Q4Weight) -> tuple[np.ndarray, np.ndarray]:
    """Unpack nibbles: ``(codes [N, k_blocks, block_size] uint8, zero_points [N, k_blocks] uint8)``."""
    n, k_blocks, half = q4.packed.shape
    codes = np.empty((n, k_blocks, half * 2), dtype=np.uint8)
    codes[:, :, 0::2] = q4.packed & 0x0F
    codes[:, :, 1::2] = q4.packed >> 4
    zp = np.empty((n, q4.zero_points.shape[1] * 2), dtype=np.uint8)
    zp[:, 0::2] = q4.zero_points & 0x0F
    zp[:, 1::2] = q4.zero_points >> 4
    return codes, zp[:, :k_blocks]


def dequantize_q4(q4: Q4Weight) -> np.ndarray:
    """The ``[K, N]`` float32 weight that MatMulNBits multiplies by: ``(code - zp) * scale`` per block."""
    codes, zp = unpack_q4_codes(q4)
    centred = codes.astype(np.float32) - zp[:, :, None].astype(np.float32)  # [N, kb, bs]
    dense = centred * q4.scales[:, :, None]  # [N, kb, bs]
    return np.ascontiguousarray(dense.reshape(q4.n, -1)[:, : q4.k].T)  # [K, N]


def float32_to_float16(values: np.ndarray) -> np.ndarray:
    """float32 → float16 that never creates an infinity.

    ``-inf`` and values below ``-65504`` (mask sentinels such as ``finfo(float32).min``) become ``-1e4``; ``+inf``
    and values above ``65504`` become ``65504``; everything else is rounded to nearest even. NaN stays NaN.
    """
    v = np.asarray(values, dtype=np.float32)
    v = np.where(v < -FP16_MAX, np.float32(FP16_MASK_VALUE), v)
    v = np.where(v > FP16_MAX, np.float32(FP16_MAX), v)
    return v.astype(np.float16)


# ---------------------------------------------------------------------------------------------------------------
# Graph editing helpers


def _attr(node: onnx.NodeProto, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


class _GraphEditor:
    """Initializer lookup, collision-free names and shared helper constants for one graph."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.graph = graph
        self.initializers = {t.name: t for t in graph.initializer}
        self.names: set[str] = set(self.initializers)
        for node in graph.node:
            self.names.update(node.input)
            self.names.update(node.output)
            self.names.add(node.name)
        self.names.update(v.name for v in graph.input)
        self.names.update(v.name for v in graph.output)
        self.replaced: set[str] = set()  # initializers that may have lost their last consumer
        # Where each added initializer comes from ({"from": source initializer, "kind": …, "part": …}), so that a
        # graph skeleton can say how the browser recomputes it from the source weight (skeleton.py, issue #9).
        self.origins: dict[str, dict] = {}

    def unique(self, base: str) -> str:
        name, i = base, 1
        while name in self.names:
            name = f"{base}_{i}"
            i += 1
        self.names.add(name)
        return name

    def node(self, op: str, inputs: list[str], outputs: list[str], name: str, **attrs) -> onnx.NodeProto:
        """A node with a collision-free name (``name`` is the base)."""
        return helper.make_node(op, inputs, outputs, name=self.unique(name), **attrs)

    def cast(self, src: str, dst: str, to: int, name: str) -> onnx.NodeProto:
        return self.node("Cast", [src], [dst], name, to=to)

    def add_initializer(self, array: np.ndarray, base: str, origin: dict | None = None) -> str:
        name = self.unique(base)
        tensor = numpy_helper.from_array(np.ascontiguousarray(array), name)
        self.graph.initializer.append(tensor)
        self.initializers[name] = tensor
        if origin is not None:
            self.origins[name] = origin
        return name

    def float_matrix(self, name: str) -> np.ndarray | None:
        """The initializer ``name`` as an array if it is a 2-D float32 constant, else None."""
        tensor = self.initializers.get(name)
        if tensor is None or tensor.data_type != TensorProto.FLOAT or len(tensor.dims) != 2:
            return None
        return numpy_helper.to_array(tensor)

    def drop_unused(self) -> None:
        """Remove replaced initializers that no node or graph output reads any more."""
        used = {i for node in self.graph.node for i in node.input} | {o.name for o in self.graph.output}
        dead = {name for name in self.replaced if name not in used}
        if not dead:
            return
        kept = [t for t in self.graph.initializer if t.name not in dead]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept)
        inputs = [v for v in self.graph.input if v.name not in dead]  # IR < 4 lists initializers as inputs
        del self.graph.input[:]
        self.graph.input.extend(inputs)


@dataclass(frozen=True)
class _Linear:
    """``output = activation @ W (+ bias)`` found in a MatMul or Gemm node, with W a constant."""

    activation: str
    weight_name: str
    transpose: bool  # Gemm transB = 1: the initializer is [N, K]
    alpha: float
    bias: str | None
    beta: float
    output: str
    node_name: str


def _match_linear(node: onnx.NodeProto, editor: _GraphEditor) -> _Linear | None:
    if node.domain not in ("", "ai.onnx"):
        return None
    if node.op_type == "MatMul":
        if editor.float_matrix(node.input[1]) is None:
            return None
        return _Linear(node.input[0], node.input[1], False, 1.0, None, 1.0, node.output[0], node.name)
    if node.op_type == "Gemm":
        if _attr(node, "transA", 0) != 0 or editor.float_matrix(node.input[1]) is None:
            return None
        bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
        return _Linear(
            node.input[0],
            node.input[1],
            bool(_attr(node, "transB", 0)),
            float(_attr(node, "alpha", 1.0)),
            bias,
            float(_attr(node, "beta", 1.0)),
            node.output[0],
            node.name,
        )
    return None


def _linear_weight(editor: _GraphEditor, lin: _Linear) -> np.ndarray:
    """The ``[K, N]`` float32 weight of a linear node (Gemm transB and alpha folded in)."""
    w = editor.float_matrix(lin.weight_name)
    assert w is not None
    if lin.transpose:
        w = np.ascontiguousarray(w.T)
    if lin.alpha != 1.0:
        w = (w * np.float32(lin.alpha)).astype(np.float32)
    return w


def _weight_key(lin: _Linear) -> tuple[str, bool, float]:
    return (lin.weight_name, lin.transpose, lin.alpha)


def _weight_base(lin: _Linear) -> str:
    base = lin.weight_name + (".T" if lin.transpose else "")
    return base if lin.alpha == 1.0 else f"{base}.alpha{lin.alpha!r}"


def _bias_nodes(editor: _GraphEditor, lin: _Linear, product: str) -> list[onnx.NodeProto]:
    """``output = product + beta * C`` (Gemm's bias kept as a plain Add)."""
    assert lin.bias is not None
    bias = lin.bias
    nodes: list[onnx.NodeProto] = []
    if lin.beta != 1.0:
        tensor = editor.initializers.get(bias)
        if tensor is not None and tensor.data_type == TensorProto.FLOAT:
            scaled = (numpy_helper.to_array(tensor) * np.float32(lin.beta)).astype(np.float32)
            editor.replaced.add(bias)
            bias = editor.add_initializer(scaled, f"{bias}.beta")
        else:
            beta = editor.add_initializer(np.array(lin.beta, dtype=np.float32), f"{lin.output}/beta")
            scaled_name = editor.unique(f"{lin.output}/scaled_bias")
            nodes.append(editor.node("Mul", [bias, beta], [scaled_name], f"{lin.node_name}/beta_mul"))
            bias = scaled_name
    nodes.append(editor.node("Add", [product, bias], [lin.output], f"{lin.node_name}/bias_add"))
    return nodes


MatMulEmitter = Callable[[_GraphEditor, _Linear, str], list[onnx.NodeProto]]


def _linear_origin(lin: _Linear, kind: str, part: str, **extra) -> dict:
    return {
        "from": lin.weight_name,
        "transpose": lin.transpose,
        "alpha": lin.alpha,
        "kind": kind,
        "part": part,
        **extra,
    }


def _rewrite(
    model: onnx.ModelProto, emit_matmul: MatMulEmitter, gather_min_rows: int, origins: dict | None = None
) -> onnx.ModelProto:
    """Copy ``model`` and replace its constant-weight linear nodes and large float Gathers.

    ``emit_matmul(editor, lin, out)`` returns nodes computing ``activation @ W`` into ``out`` (bias excluded).
    ``origins``, when given, receives each new weight initializer's origin (see ``_GraphEditor.origins``).
    """
    out_model = onnx.ModelProto()
    out_model.CopyFrom(model)
    graph = out_model.graph
    editor = _GraphEditor(graph)
    gathers: dict[str, tuple[str, str]] = {}
    new_nodes: list[onnx.NodeProto] = []
    for node in graph.node:
        lin = _match_linear(node, editor)
        if lin is not None:
            product = lin.output if lin.bias is None else editor.unique(f"{lin.output}/matmul")
            new_nodes.extend(emit_matmul(editor, lin, product))
            if lin.bias is not None:
                new_nodes.extend(_bias_nodes(editor, lin, product))
            editor.replaced.add(lin.weight_name)
            continue
        table = _match_gather(node, editor, gather_min_rows)
        if table is not None:
            new_nodes.extend(_int8_gather_nodes(editor, node, table, gathers))
            editor.replaced.add(node.input[0])
            continue
        new_nodes.append(node)
    del graph.node[:]
    graph.node.extend(new_nodes)
    editor.drop_unused()
    if origins is not None:
        kept = {t.name for t in graph.initializer}
        origins.update({name: o for name, o in editor.origins.items() if name in kept})
    return out_model


def _match_gather(node: onnx.NodeProto, editor: _GraphEditor, min_rows: int) -> np.ndarray | None:
    if node.domain not in ("", "ai.onnx") or node.op_type != "Gather":
        return None
    if _attr(node, "axis", 0) not in (0, -2):
        return None
    table = editor.float_matrix(node.input[0])
    if table is None or table.shape[0] < min_rows:
        return None
    return table


def _int8_gather_nodes(
    editor: _GraphEditor, node: onnx.NodeProto, table: np.ndarray, cache: dict[str, tuple[str, str]]
) -> list[onnx.NodeProto]:
    """``Gather(table, ids)`` → ``Cast(Gather(q, ids)) * Gather(scale[V, 1], ids)``."""
    name = node.input[0]
    if name not in cache:
        q, scale = quantize_int8_rows(table)
        cache[name] = (
            editor.add_initializer(q, f"{name}.int8", {"from": name, "kind": "int8_rows", "part": "q"}),  # [V, D]
            editor.add_initializer(  # [V, 1] float32
                scale.reshape(-1, 1), f"{name}.row_scale", {"from": name, "kind": "int8_rows", "part": "scale"}
            ),
        )
    q_name, scale_name = cache[name]
    ids, out = node.input[1], node.output[0]
    base = node.name or out
    rows_q = editor.unique(f"{out}/rows_int8")  # [..., D] int8
    rows_f = editor.unique(f"{out}/rows_float")  # [..., D]
    row_scale = editor.unique(f"{out}/row_scale")  # [..., 1]
    return [
        editor.node("Gather", [q_name, ids], [rows_q], f"{base}/gather_int8", axis=0),
        editor.node("Gather", [scale_name, ids], [row_scale], f"{base}/gather_scale", axis=0),
        editor.cast(rows_q, rows_f, TensorProto.FLOAT, f"{base}/cast"),
        editor.node("Mul", [rows_f, row_scale], [out], f"{base}/dequant"),
    ]


# ---------------------------------------------------------------------------------------------------------------
# int8


def quantize_int8(
    model: onnx.ModelProto, gather_min_rows: int = GATHER_MIN_ROWS, origins: dict | None = None
) -> onnx.ModelProto:
    """Dynamic int8 quantization for onnxruntime-web's WASM backend.

    Every ``MatMul`` whose B is a 2-D float32 initializer ``[K, N]``, and every ``Gemm`` (transA 0) with a constant B
    (transB 0 or 1; alpha folded into the weight; ``beta * C`` kept as an ``Add``) becomes::

        DynamicQuantizeLinear(A) → A_u8, a_scale, a_zp           (once per activation tensor)
        MatMulInteger(A_u8, W_i8, a_zp, w_zp = int8 0) → Y_i32   [..., N]
        Cast(Y_i32 → float) * (a_scale * w_scale[N])

    with ``W_i8, w_scale = quantize_int8_columns(W)``. uint8 × int8 is the pair ORT's CPU kernels (and hence WASM)
    run with its fast u8s8 path; all four u8/s8 pairs run in 1.30. A weight shared by several nodes is quantized once.
    ``Gather`` on a 2-D float32 initializer with at least ``gather_min_rows`` rows becomes a per-row int8 table
    (:func:`quantize_int8_rows`). Conv and every other op stay float32. ``origins``: see :func:`_rewrite`.
    """
    weights: dict[tuple[str, bool, float], tuple[str, str]] = {}
    activations: dict[str, tuple[str, str, str]] = {}
    state: dict[str, str] = {}

    def emit(editor: _GraphEditor, lin: _Linear, out: str) -> list[onnx.NodeProto]:
        nodes: list[onnx.NodeProto] = []
        key = _weight_key(lin)
        if key not in weights:
            q, scale = quantize_int8_columns(_linear_weight(editor, lin))
            base = _weight_base(lin)
            weights[key] = (
                editor.add_initializer(q, f"{base}.int8", _linear_origin(lin, "int8_columns", "q")),
                editor.add_initializer(scale, f"{base}.scale", _linear_origin(lin, "int8_columns", "scale")),
            )
        w_q, w_scale = weights[key]
        if "zero" not in state:
            state["zero"] = editor.add_initializer(np.array(0, dtype=np.int8), "eva_lens.int8_zero_point")
        a = lin.activation
        if a not in activations:
            names = tuple(editor.unique(f"{a}/{s}") for s in ("quant", "scale", "zero_point"))
            nodes.append(editor.node("DynamicQuantizeLinear", [a], list(names), f"{a}/dynamic_quantize"))
            activations[a] = names  # type: ignore[assignment]
        a_q, a_scale, a_zp = activations[a]
        base = lin.node_name or out
        acc = editor.unique(f"{out}/int32")  # [..., N] int32
        acc_f = editor.unique(f"{out}/int32_float")
        scale = editor.unique(f"{out}/scale")  # [N]
        nodes += [
            editor.node("MatMulInteger", [a_q, w_q, a_zp, state["zero"]], [acc], f"{base}/matmul_integer"),
            editor.cast(acc, acc_f, TensorProto.FLOAT, f"{base}/cast"),
            editor.node("Mul", [a_scale, w_scale], [scale], f"{base}/scale_mul"),
            editor.node("Mul", [acc_f, scale], [out], f"{base}/dequant"),
        ]
        return nodes

    return _rewrite(model, emit, gather_min_rows, origins)


# ---------------------------------------------------------------------------------------------------------------
# q4


def _ensure_ms_opset(model: onnx.ModelProto) -> None:
    if not any(op.domain == MS_DOMAIN for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))


def quantize_q8_blocks(weight: np.ndarray, block_size: int = 32) -> Q8Weight:
    """Asymmetric 8-bit block quantization of a ``[K, N]`` weight along K, for MatMulNBits with ``bits=8``.

    The same maths as :func:`quantize_q4_blocks` with codes in [0, 255] (``scale = (hi - lo) / 255``, empty block:
    code = zero point = 128), one code per byte and one zero point per byte.
    """
    codes, scale, zp = _asymmetric_blocks(weight, block_size, Q8_QMAX, Q8_DEFAULT_ZERO_POINT)
    k, n = np.asarray(weight).shape
    return Q8Weight(codes=codes, scales=scale, zero_points=zp, k=k, n=n, block_size=block_size)


def dequantize_q8(q8: Q8Weight) -> np.ndarray:
    centred = q8.codes.astype(np.float32) - q8.zero_points[:, :, None].astype(np.float32)
    dense = centred * q8.scales[:, :, None]
    return np.ascontiguousarray(dense.reshape(q8.n, -1)[:, : q8.k].T)


# Which linear layers of an exported EVA-CLIP tower stay at 8 bits in the "q4" variant: all but the MLP up-projections
# (vision mlp.w1/w2, text mlp.c_fc), which hold about half of the weights. Measured in onnxruntime-web on a
# random-weight EVA02-CLIP-B/16 image tower (random inputs, cosine to fp32): 4 bits everywhere 0.95; residual
# projections at 8 bits 0.970; this split 0.98+ (see models/tests/test_export.py). Node names come from the
# exporter's module scopes (e.g. /visual/blocks.3/mlp/w1/MatMul).
EVA_EIGHT_BIT_NODES = r"^/(visual|text)/(?!.*/mlp/(w1|w2|c_fc)/)"


def quantize_q4(
    model: onnx.ModelProto,
    block_size: int = 32,
    accuracy_level: int = 0,
    gather_min_rows: int = GATHER_MIN_ROWS,
    eight_bit_nodes: str | None = EVA_EIGHT_BIT_NODES,
    origins: dict | None = None,
) -> onnx.ModelProto:
    """4-bit weight-only quantization with ``com.microsoft.MatMulNBits`` (bits 4; bits 8 for ``eight_bit_nodes``).

    Nodes whose name matches the regex ``eight_bit_nodes`` (default: every EVA-CLIP linear layer except the MLP
    up-projections, see :data:`EVA_EIGHT_BIT_NODES`) get 8-bit blocks from :func:`quantize_q8_blocks`; pass ``None``
    for 4 bits everywhere.

    The same MatMul/Gemm nodes as :func:`quantize_int8` become ``MatMulNBits(A, B, scales, zero_points)`` with
    attributes ``K, N, bits=4, block_size, accuracy_level``, weights from :func:`quantize_q4_blocks` (K padded to a
    multiple of ``block_size``). ``accuracy_level`` 0 keeps A in float32 inside the kernel; 4 lets the CPU/WASM
    kernel quantize A to int8 per block (faster on WASM, less accurate). Gemm bias is kept as an ``Add``. Large
    Gathers become int8 per-row tables as in :func:`quantize_int8`. Adds the ``com.microsoft`` opset import.
    """
    weights: dict[tuple[str, bool, float, int], tuple[str, str, str, int, int]] = {}

    pattern = re.compile(eight_bit_nodes) if eight_bit_nodes else None

    def emit(editor: _GraphEditor, lin: _Linear, out: str) -> list[onnx.NodeProto]:
        bits = 8 if pattern is not None and pattern.search(lin.node_name or "") else 4
        key = (*_weight_key(lin), bits)
        if key not in weights:
            base = _weight_base(lin)
            if bits == 8:
                q8 = quantize_q8_blocks(_linear_weight(editor, lin), block_size)
                packed, scales_, zps_, k_, n_ = q8.codes, q8.scales, q8.zero_points, q8.k, q8.n
            else:
                q4 = quantize_q4_blocks(_linear_weight(editor, lin), block_size)
                packed, scales_, zps_, k_, n_ = q4.packed, q4.scales, q4.zero_points, q4.k, q4.n
            kind = f"q{bits}_blocks"
            weights[key] = (
                editor.add_initializer(
                    packed, f"{base}.q{bits}", _linear_origin(lin, kind, "codes", blockSize=block_size)
                ),
                editor.add_initializer(
                    scales_, f"{base}.q{bits}_scales", _linear_origin(lin, kind, "scales", blockSize=block_size)
                ),
                editor.add_initializer(
                    zps_, f"{base}.q{bits}_zero_points", _linear_origin(lin, kind, "zero_points", blockSize=block_size)
                ),
                k_,
                n_,
            )
        b, scales, zps, k, n = weights[key]
        node = helper.make_node(
            "MatMulNBits",
            [lin.activation, b, scales, zps],
            [out],
            name=editor.unique(f"{lin.node_name or out}/matmul_nbits"),
            domain=MS_DOMAIN,
            K=k,
            N=n,
            bits=bits,
            block_size=block_size,
            accuracy_level=accuracy_level,
        )
        return [node]

    quantized = _rewrite(model, emit, gather_min_rows, origins)
    _ensure_ms_opset(quantized)
    return quantized


# ---------------------------------------------------------------------------------------------------------------
# fp16


def _tensor_to_fp16(tensor: TensorProto) -> TensorProto:
    converted = numpy_helper.from_array(float32_to_float16(numpy_helper.to_array(tensor)), tensor.name)
    return converted


def _convert_attribute_tensors(node: onnx.NodeProto) -> None:
    """Float32 tensors and float types carried by attributes → float16 (Constant, ConstantOfShape, Cast 'to', …)."""
    new_attrs: list[onnx.AttributeProto] = []
    for a in node.attribute:
        if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
            new_attrs.append(helper.make_attribute(a.name, _tensor_to_fp16(a.t)))
        elif node.op_type == "Constant" and a.name in ("value_float", "value_floats"):
            values = np.array(a.f if a.name == "value_float" else a.floats, np.float32)
            new_attrs.append(helper.make_attribute("value", numpy_helper.from_array(float32_to_float16(values))))
        elif a.name in ("to", "dtype") and a.type == onnx.AttributeProto.INT and a.i == TensorProto.FLOAT:
            new_attrs.append(helper.make_attribute(a.name, TensorProto.FLOAT16))
        else:
            new_attrs.append(a)
    del node.attribute[:]
    node.attribute.extend(new_attrs)


def convert_fp16(model: onnx.ModelProto, keep_fp32_ops: Iterable[str] = DEFAULT_FP32_OPS) -> onnx.ModelProto:
    """fp16 weights and compute (for WebGPU with ``shader-f16``), float32 graph inputs and outputs.

    * Every float32 initializer, ``Constant`` value and ``ConstantOfShape`` value becomes float16 via
      :func:`float32_to_float16` (so ``-inf`` masks become ``-1e4``, nothing becomes infinite); ``Cast``/``dtype``
      attributes that name float32 name float16; float32 ``value_info`` entries become float16. Since every float
      in the graph then originates as float16, all intermediate tensors are float16.
    * Each float32 graph input ``x`` gets ``Cast(x → float16)`` at the top; each float32 graph output is produced by
      a final ``Cast(→ float32)``.
    * Ops in ``keep_fp32_ops`` (default LayerNormalization and Softmax) run as float32 islands: their float inputs
      are cast up (their own weights stay float32 when no other node reads them) and their outputs cast back to
      float16, so variance and exp sums do not overflow.
    * Inputs the ONNX spec types as float32 only (Resize scales) are always fed through ``Cast(→ float32)``.

    Subgraphs (If/Loop bodies) are not converted.
    """
    keep = tuple(keep_fp32_ops)
    for op in keep:
        if op not in _FLOAT_INPUTS:
            raise ValueError(f"fp32 island not supported for op {op!r}; supported: {sorted(_FLOAT_INPUTS)}")
    out_model = onnx.ModelProto()
    out_model.CopyFrom(model)
    graph = out_model.graph
    editor = _GraphEditor(graph)

    def is_island(node: onnx.NodeProto) -> bool:
        return node.domain in ("", "ai.onnx") and node.op_type in keep

    # Float initializers read only at float inputs of island nodes keep their float32 values.
    readers: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
    for node in graph.node:
        for idx, name in enumerate(node.input):
            readers.setdefault(name, []).append((node, idx))
    graph_outputs = {o.name for o in graph.output}
    keep_fp32_inits = {
        name
        for name, tensor in editor.initializers.items()
        if tensor.data_type == TensorProto.FLOAT
        and name not in graph_outputs
        and readers.get(name)
        and all(is_island(n) and i in _FLOAT_INPUTS[n.op_type] for n, i in readers[name])
    }

    converted_inits = []
    for tensor in graph.initializer:
        stays_fp32 = tensor.name in keep_fp32_inits or tensor.name in graph_outputs
        if tensor.data_type == TensorProto.FLOAT and not stays_fp32:
            converted_inits.append(_tensor_to_fp16(tensor))
        else:
            converted_inits.append(tensor)
    del graph.initializer[:]
    graph.initializer.extend(converted_inits)
    for vi in graph.value_info:
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            vi.type.tensor_type.elem_type = TensorProto.FLOAT16

    # Boundary casts: graph inputs.
    input_rename: dict[str, str] = {}
    head: list[onnx.NodeProto] = []
    for vi in graph.input:
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT and vi.name not in editor.initializers:
            half = editor.unique(f"{vi.name}/fp16")
            input_rename[vi.name] = half
            head.append(editor.cast(vi.name, half, TensorProto.FLOAT16, f"{vi.name}/cast_fp16"))

    # Boundary casts: graph outputs (their producers write a float16 tensor instead).
    output_rename: dict[str, str] = {}
    tail: list[onnx.NodeProto] = []
    produced = {o for node in graph.node for o in node.output}
    for vi in graph.output:
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT and vi.name in produced:
            half = editor.unique(f"{vi.name}/fp16")
            output_rename[vi.name] = half
            tail.append(editor.cast(half, vi.name, TensorProto.FLOAT, f"{vi.name}/cast_fp32"))

    new_nodes: list[onnx.NodeProto] = list(head)
    for node in graph.node:
        for idx, name in enumerate(node.input):
            if name in input_rename:
                node.input[idx] = input_rename[name]
            elif name in output_rename:
                node.input[idx] = output_rename[name]
        for idx, name in enumerate(node.output):
            if name in output_rename:
                node.output[idx] = output_rename[name]
        _convert_attribute_tensors(node)
        base = node.name or node.output[0]

        for idx in _FP32_ONLY_INPUTS.get(node.op_type, ()):
            if idx < len(node.input) and node.input[idx]:
                up = editor.unique(f"{node.input[idx]}/fp32")
                new_nodes.append(editor.cast(node.input[idx], up, TensorProto.FLOAT, f"{base}/cast_in{idx}"))
                node.input[idx] = up

        if not is_island(node):
            new_nodes.append(node)
            continue
        for idx in _FLOAT_INPUTS[node.op_type]:
            if idx >= len(node.input) or not node.input[idx] or node.input[idx] in keep_fp32_inits:
                continue
            up = editor.unique(f"{node.input[idx]}/fp32")
            new_nodes.append(editor.cast(node.input[idx], up, TensorProto.FLOAT, f"{base}/cast_in{idx}"))
            node.input[idx] = up
        down_casts = []
        for idx, name in enumerate(node.output):
            if not name:
                continue
            wide = editor.unique(f"{name}/fp32")
            node.output[idx] = wide
            down_casts.append(editor.cast(wide, name, TensorProto.FLOAT16, f"{base}/cast_out{idx}"))
        new_nodes.append(node)
        new_nodes.extend(down_casts)
    new_nodes.extend(tail)
    del graph.node[:]
    graph.node.extend(new_nodes)
    return out_model


# ---------------------------------------------------------------------------------------------------------------
# Sizes


def _itemsize(data_type: int) -> int:
    if hasattr(helper, "tensor_dtype_to_np_dtype"):  # onnx >= 1.13
        return np.dtype(helper.tensor_dtype_to_np_dtype(data_type)).itemsize
    return np.dtype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[data_type]).itemsize  # onnx 1.12


def _tensor_nbytes(tensor: TensorProto) -> int:
    count = int(np.prod(tensor.dims, dtype=np.int64)) if tensor.dims else 1
    return count * _itemsize(tensor.data_type)


def _constant_tensors(model: onnx.ModelProto) -> Iterable[TensorProto]:
    yield from model.graph.initializer
    for node in model.graph.node:
        for a in node.attribute:
            if node.op_type == "Constant" and a.type == onnx.AttributeProto.TENSOR:
                yield a.t


def tensor_bytes(model: onnx.ModelProto) -> int:
    """Bytes of all constant tensor data (initializers and Constant nodes), as stored uncompressed."""
    return sum(_tensor_nbytes(t) for t in _constant_tensors(model))


def size_report(model: onnx.ModelProto) -> dict[str, int]:
    """Constant tensor bytes by element type name (e.g. ``{"FLOAT": ..., "INT8": ..., "UINT8": ...}``),
    plus ``"total"`` and ``"serialized"`` (the size of the ``.onnx`` file)."""
    report: dict[str, int] = {}
    for tensor in _constant_tensors(model):
        name = TensorProto.DataType.Name(tensor.data_type)
        report[name] = report.get(name, 0) + _tensor_nbytes(tensor)
    report = dict(sorted(report.items()))
    report["total"] = sum(report.values())
    report["serialized"] = model.ByteSize()
    return report
