"""int8 / q4 / fp16 conversions of small graphs, checked in onnxruntime-web (WASM, Node) against float32.

Graph shapes mimic a CLIP tower in miniature: 3-D activations through MatMul+Add (torch's nn.Linear export), Gemm
with transB=1 (nn.Linear on 2-D input), a vocab-sized Gather, a K that is not a multiple of the q4 block size, and a
weight shared by two nodes.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from eva_lens import quantize as q
from eva_lens.ort_node import OrtNodeError, check_runtime, run_onnx, run_onnx_sets

try:
    check_runtime()
except OrtNodeError as err:  # pragma: no cover - only without node / npm install
    pytest.skip(f"onnxruntime-web unavailable: {err}", allow_module_level=True)

OPSET = 17


def make_model(nodes, inputs, outputs, initializers) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "test", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def linear_weight(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    return (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)  # [K, N]


def mlp_model(dims=(160, 384, 200, 384, 96), seed: int = 0) -> onnx.ModelProto:
    """4 × (MatMul + Add + Relu) on x [batch, seq, 160]; K = 200 is not a multiple of 32."""
    rng = np.random.default_rng(seed)
    nodes, inits, prev = [], [], "x"
    for i, (k, n) in enumerate(zip(dims[:-1], dims[1:])):
        inits += [
            numpy_helper.from_array(linear_weight(rng, k, n), f"w{i}"),
            numpy_helper.from_array((0.1 * rng.standard_normal(n)).astype(np.float32), f"b{i}"),
        ]
        nodes += [
            helper.make_node("MatMul", [prev, f"w{i}"], [f"mm{i}"], name=f"fc{i}"),
            helper.make_node("Add", [f"mm{i}", f"b{i}"], [f"add{i}"], name=f"bias{i}"),
        ]
        last = i == len(dims) - 2
        out = "y" if last else f"h{i}"
        nodes.append(helper.make_node("Identity" if last else "Relu", [f"add{i}"], [out], name=f"act{i}"))
        prev = out
    return make_model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", dims[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", dims[-1]])],
        inits,
    )


def gemm_model(seed: int = 1) -> onnx.ModelProto:
    """Gemm(transB=1, alpha, beta, bias) then Gemm(transB=0, no bias) on a 2-D input; K = 96 + 72."""
    rng = np.random.default_rng(seed)
    w0 = linear_weight(rng, 96, 256).T.copy()  # [N, K] as nn.Linear stores it
    w1 = linear_weight(rng, 256, 72)  # [K, N]
    bias = (0.1 * rng.standard_normal(256)).astype(np.float32)
    nodes = [
        helper.make_node("Gemm", ["x", "w0", "c0"], ["g0"], name="gemm0", transB=1, alpha=0.5, beta=2.0),
        helper.make_node("Relu", ["g0"], ["r0"]),
        helper.make_node("Gemm", ["r0", "w1"], ["y"], name="gemm1"),
    ]
    return make_model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 96])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 72])],
        [numpy_helper.from_array(w0, "w0"), numpy_helper.from_array(bias, "c0"), numpy_helper.from_array(w1, "w1")],
    )


def embedding_model(vocab: int = 2048, width: int = 96, seed: int = 2) -> onnx.ModelProto:
    """ids → Gather(token table) → two MatMuls that share one weight (q and k of a tied projection) → sum."""
    rng = np.random.default_rng(seed)
    table = (0.02 * rng.standard_normal((vocab, width))).astype(np.float32)
    table[7] = 0.0  # an all-zero row must survive (scale fallback)
    shared = linear_weight(rng, width, 64)
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["emb"], name="token_embedding"),
        helper.make_node("MatMul", ["emb", "shared_w"], ["p0"], name="proj_a"),
        helper.make_node("Relu", ["emb"], ["emb_relu"]),
        helper.make_node("MatMul", ["emb_relu", "shared_w"], ["p1"], name="proj_b"),
        helper.make_node("Add", ["p0", "p1"], ["y"]),
    ]
    return make_model(
        nodes,
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", 64])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(shared, "shared_w")],
    )


def attention_model(seq: int = 12, width: int = 64, seed: int = 3) -> onnx.ModelProto:
    """Causal self-attention with the fp16 hazards: a -inf mask initializer, a float32-min ConstantOfShape mask,
    a Cast(int → float) for 1/sqrt(d), LayerNormalization and Softmax."""
    rng = np.random.default_rng(seed)
    mask = np.triu(np.full((seq, seq), -np.inf, dtype=np.float32), 1)  # [T, T], -inf above the diagonal
    inits = [
        numpy_helper.from_array(linear_weight(rng, width, width), "wq"),
        numpy_helper.from_array(linear_weight(rng, width, width), "wk"),
        numpy_helper.from_array(linear_weight(rng, width, width), "wv"),
        numpy_helper.from_array(mask, "causal_mask"),
        numpy_helper.from_array(np.array([seq, seq], dtype=np.int64), "mask_shape"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "one"),
        numpy_helper.from_array((1 + 0.1 * rng.standard_normal(width)).astype(np.float32), "ln_scale"),
        numpy_helper.from_array((0.1 * rng.standard_normal(width)).astype(np.float32), "ln_bias"),
    ]
    fmin = helper.make_tensor("fmin", TensorProto.FLOAT, [1], [float(np.finfo(np.float32).min)])
    nodes = [
        helper.make_node("MatMul", ["x", "wq"], ["q"]),
        helper.make_node("MatMul", ["x", "wk"], ["k"]),
        helper.make_node("MatMul", ["x", "wv"], ["v"]),
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["qk"]),
        helper.make_node("Shape", ["q"], ["q_shape"]),
        helper.make_node("Gather", ["q_shape", "last_axis"], ["d_int"], axis=0),
        helper.make_node("Cast", ["d_int"], ["d"], to=TensorProto.FLOAT),
        helper.make_node("Sqrt", ["d"], ["sqrt_d"]),
        helper.make_node("Div", ["qk", "sqrt_d"], ["scores"]),
        helper.make_node("Add", ["scores", "causal_mask"], ["masked"]),
        helper.make_node("ConstantOfShape", ["mask_shape"], ["neg_big"], value=fmin),
        helper.make_node("Trilu", ["neg_big", "one"], ["mask2"], upper=1),
        helper.make_node("Add", ["masked", "mask2"], ["masked2"]),
        helper.make_node("Softmax", ["masked2"], ["attn"], axis=-1),
        helper.make_node("MatMul", ["attn", "v"], ["ctx"]),
        helper.make_node("Add", ["ctx", "x"], ["res"]),
        helper.make_node("LayerNormalization", ["res", "ln_scale", "ln_bias"], ["y"], axis=-1, epsilon=1e-5),
    ]
    return make_model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, seq, width])],
        inits,
    )


def op_types(model: onnx.ModelProto) -> list[str]:
    return [n.op_type for n in model.graph.node]


def initializer(model: onnx.ModelProto, name: str) -> np.ndarray:
    return numpy_helper.to_array(next(t for t in model.graph.initializer if t.name == name))


def io_signature(model: onnx.ModelProto) -> list[tuple[str, int]]:
    return [(v.name, v.type.tensor_type.elem_type) for v in [*model.graph.input, *model.graph.output]]


# ---------------------------------------------------------------------------------------------------------------
# Weight maths (pure numpy)


def test_int8_columns_maths():
    w = np.array([[1.0, -0.5, 0.0], [-2.0, 0.25, 0.0], [0.5, 0.5, 0.0]], dtype=np.float32)  # [K=3, N=3]
    codes, scale = q.quantize_int8_columns(w)
    np.testing.assert_array_equal(scale, np.float32([2.0 / 127, 0.5 / 127, 1.0]))
    np.testing.assert_array_equal(codes[:, 0], [64, -127, 32])  # 63.5 → 64 (half to even), 31.75 → 32
    np.testing.assert_array_equal(codes[:, 1], [-127, 64, 127])  # 63.5 → 64
    np.testing.assert_array_equal(codes[:, 2], [0, 0, 0])
    assert codes.dtype == np.int8 and codes.min() >= -127


def test_q4_block_maths_and_packing():
    # one column, K = 40 → two blocks of 32 (the second padded with zeros)
    col = np.linspace(-1.0, 2.0, 40, dtype=np.float32)
    packed = q.quantize_q4_blocks(col[:, None], block_size=32)
    assert packed.packed.shape == (1, 2, 16) and packed.scales.shape == (1, 2) and packed.zero_points.shape == (1, 1)
    lo, hi = np.float32(min(0.0, col[:32].min())), np.float32(max(0.0, col[:32].max()))
    scale0 = (hi - lo) / np.float32(15)
    assert packed.scales[0, 0] == scale0
    zp0 = int(np.clip(np.round(-lo / scale0), 0, 15))
    codes, zps = q.unpack_q4_codes(packed)
    assert zps[0, 0] == zp0 and packed.zero_points[0, 0] & 0x0F == zp0
    assert packed.zero_points[0, 0] >> 4 == zps[0, 1]  # second block in the high nibble
    expected0 = np.clip(np.round(col[:32] / scale0) + zp0, 0, 15)
    np.testing.assert_array_equal(codes[0, 0], expected0)
    assert packed.packed[0, 0, 0] == (int(expected0[0]) | (int(expected0[1]) << 4))  # low nibble first
    np.testing.assert_array_equal(codes[0, 1, 8:], zps[0, 1])  # padding rows dequantize to exactly 0
    deq = q.dequantize_q4(packed)
    assert deq.shape == (40, 1)
    assert np.abs(deq[:, 0] - col).max() <= 0.5 * packed.scales.max() + 1e-6


def test_q4_all_zero_block():
    packed = q.quantize_q4_blocks(np.zeros((32, 2), np.float32))
    codes, zps = q.unpack_q4_codes(packed)
    assert (codes == 8).all() and (zps == 8).all() and (packed.scales == 0).all()
    np.testing.assert_array_equal(q.dequantize_q4(packed), 0.0)


def test_float32_to_float16_clamps():
    src = np.array([-np.inf, np.finfo(np.float32).min, -70000.0, -65504.0, 0.1, 70000.0, np.inf], np.float32)
    out = q.float32_to_float16(src)
    assert out.dtype == np.float16 and np.isfinite(out).all()
    np.testing.assert_array_equal(out, np.float16([-1e4, -1e4, -1e4, -65504.0, 0.1, 65504.0, 65504.0]))


# ---------------------------------------------------------------------------------------------------------------
# Graph structure and determinism


@pytest.mark.parametrize("convert", [q.quantize_int8, q.quantize_q4, q.convert_fp16], ids=["int8", "q4", "fp16"])
@pytest.mark.parametrize("build", [mlp_model, gemm_model, embedding_model, attention_model])
def test_conversion_is_valid_deterministic_and_keeps_io(convert, build):
    model = build()
    original = model.SerializeToString()
    first = convert(model)
    second = convert(onnx.load_from_string(original))
    assert model.SerializeToString() == original, "the input model must not be modified"
    onnx.checker.check_model(first)
    assert first.SerializeToString(deterministic=True) == second.SerializeToString(deterministic=True)
    assert io_signature(first) == io_signature(model)
    onnx.shape_inference.infer_shapes(first, strict_mode=True)


def test_int8_structure_and_shared_weight():
    model = q.quantize_int8(embedding_model())
    ops = op_types(model)
    assert ops.count("MatMulInteger") == 2 and "MatMul" not in ops
    names = {t.name for t in model.graph.initializer}
    assert "shared_w" not in names and "table" not in names  # float originals dropped
    assert sum(n.startswith("shared_w.int8") for n in names) == 1  # the shared weight is quantized once
    assert initializer(model, "table.int8").dtype == np.int8
    assert initializer(model, "table.row_scale").shape == (2048, 1)
    # uint8 activations × int8 weights, zero point of the weight is an int8 0
    mmi = next(n for n in model.graph.node if n.op_type == "MatMulInteger")
    assert initializer(model, mmi.input[1]).dtype == np.int8
    assert initializer(model, mmi.input[3]).dtype == np.int8 and initializer(model, mmi.input[3]) == 0


def test_int8_shares_activation_quantization():
    model = q.quantize_int8(attention_model())
    # q, k, v projections read the same x: one DynamicQuantizeLinear feeds all three
    assert op_types(model).count("DynamicQuantizeLinear") == 1
    assert op_types(model).count("MatMulInteger") == 3
    assert op_types(model).count("MatMul") == 2  # activation × activation products stay float


def test_q4_structure():
    model = q.quantize_q4(mlp_model(), block_size=32)
    nodes = [n for n in model.graph.node if n.op_type == "MatMulNBits"]
    assert len(nodes) == 4 and all(n.domain == "com.microsoft" for n in nodes)
    assert any(op.domain == "com.microsoft" and op.version == 1 for op in model.opset_import)
    third = nodes[2]  # K = 200: 7 blocks of 32, the last padded
    attrs = {a.name: helper.get_attribute_value(a) for a in third.attribute}
    assert attrs == {"K": 200, "N": 384, "bits": 4, "block_size": 32, "accuracy_level": 0}
    assert initializer(model, third.input[1]).shape == (384, 7, 16)
    assert initializer(model, third.input[2]).shape == (384, 7)
    assert initializer(model, third.input[3]).shape == (384, 4)


def test_gather_threshold_keeps_small_tables():
    model = q.quantize_int8(embedding_model(vocab=100))
    assert "table" in {t.name for t in model.graph.initializer}
    assert op_types(model).count("Gather") == 1


def test_sizes_shrink():
    model = mlp_model()
    fp32 = q.tensor_bytes(model)
    weights = sum(k * n for k, n in zip((160, 384, 200, 384), (384, 200, 384, 96)))
    assert fp32 == 4 * weights + 4 * (384 + 200 + 384 + 96)
    int8 = q.tensor_bytes(q.quantize_int8(model))
    q4 = q.tensor_bytes(q.quantize_q4(model))
    fp16 = q.tensor_bytes(q.convert_fp16(model))
    assert int8 < 0.27 * fp32 and q4 < 0.19 * fp32 and fp16 == fp32 // 2
    report = q.size_report(q.quantize_q4(model))
    assert report["total"] == q4 and report["UINT8"] > 0 and report["serialized"] > q4


# ---------------------------------------------------------------------------------------------------------------
# Accuracy in onnxruntime-web (WASM)


def mlp_input(seed: int = 10) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((2, 9, 160)).astype(np.float32)  # [B, T, K]


@pytest.mark.parametrize(
    ("build", "feeds"),
    [
        (mlp_model, lambda: {"x": mlp_input()}),
        (gemm_model, lambda: {"x": np.random.default_rng(11).standard_normal((5, 96)).astype(np.float32)}),
        (embedding_model, lambda: {"input_ids": np.random.default_rng(12).integers(0, 2048, (2, 7)).astype(np.int64)}),
        (attention_model, lambda: {"x": np.random.default_rng(13).standard_normal((1, 12, 64)).astype(np.float32)}),
    ],
    ids=["mlp", "gemm", "embedding", "attention"],
)
def test_accuracy_in_ort_web(build, feeds):
    model, inputs = build(), feeds()
    reference = run_onnx(model, inputs)["y"]
    int8 = run_onnx(q.quantize_int8(model), inputs)["y"]
    q4 = run_onnx(q.quantize_q4(model), inputs)["y"]
    fp16 = run_onnx(q.convert_fp16(model), inputs)["y"]
    assert int8.dtype == q4.dtype == fp16.dtype == np.float32
    assert cosine(int8, reference) >= 0.99, cosine(int8, reference)
    assert cosine(q4, reference) >= 0.97, cosine(q4, reference)
    assert cosine(fp16, reference) >= 0.999, cosine(fp16, reference)
    assert np.isfinite(fp16).all()


def test_q4_packing_matches_ort_dequantization():
    """An identity input makes MatMulNBits return its dequantized weight: proves B / scales / zero-point layout."""
    rng = np.random.default_rng(20)
    k, n = 200, 48  # 7 blocks: odd count exercises the half-used zero-point byte
    weight = (rng.standard_normal((k, n)) * rng.uniform(0.1, 3.0, n)).astype(np.float32)
    weight[:, 5] = np.abs(weight[:, 5])  # an all-positive column: zero point 0
    weight[:, 6] = -np.abs(weight[:, 6])  # an all-negative column: zero point 15
    weight[:32, 7] = 0.0  # an all-zero block
    model = make_model(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["m", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", n])],
        [numpy_helper.from_array(weight, "w")],
    )
    for block_size in (16, 32, 64):
        qmodel = q.quantize_q4(model, block_size=block_size)
        blocks = q.quantize_q4_blocks(weight, block_size)
        expected = q.dequantize_q4(blocks)
        node = next(nd for nd in qmodel.graph.node if nd.op_type == "MatMulNBits")
        np.testing.assert_array_equal(initializer(qmodel, node.input[1]), blocks.packed)
        got = run_onnx(qmodel, {"x": np.eye(k, dtype=np.float32)})["y"]  # [K, N]: row k = dequantized W[k]
        # ORT reads the bytes as our unpacking does ...
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
        # ... and what it reads is the weight within half a quantization step (catches swapped nibbles)
        step = np.repeat(blocks.scales.T, block_size, axis=0)[:k]  # [K, N] scale of each element's block
        assert (np.abs(got - weight) <= 0.5 * step * (1 + 1e-5) + 1e-7).all()
        assert np.abs(expected - weight).max() > 0  # 4 bits really lose information


def test_int8_weights_match_ort_dequantization():
    """Identity input: DynamicQuantizeLinear gives scale 1/255, zero point 0, codes 255 → ORT returns q * w_scale."""
    rng = np.random.default_rng(21)
    k, n = 70, 33
    weight = (rng.standard_normal((k, n)) / 8).astype(np.float32)
    model = make_model(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["m", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", n])],
        [numpy_helper.from_array(weight, "w")],
    )
    codes, scale = q.quantize_int8_columns(weight)
    got = run_onnx(q.quantize_int8(model), {"x": np.eye(k, dtype=np.float32)})["y"]
    np.testing.assert_allclose(got, codes.astype(np.float32) * scale, rtol=1e-5)
    np.testing.assert_allclose(got, weight, atol=float(scale.max()) / 2 + 1e-6)


def test_int8_gather_rows_match_ort():
    model = embedding_model()
    table = initializer(model, "table")
    codes, scale = q.quantize_int8_rows(table)
    only_gather = make_model(
        [helper.make_node("Gather", ["table", "ids"], ["y"])],
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 96])],
        [numpy_helper.from_array(table, "table")],
    )
    ids = np.arange(2048, dtype=np.int64)
    got = run_onnx(q.quantize_int8(only_gather), {"ids": ids})["y"]
    np.testing.assert_array_equal(got, codes.astype(np.float32) * scale[:, None])
    np.testing.assert_array_equal(got[7], 0.0)


# ---------------------------------------------------------------------------------------------------------------
# fp16 specifics


def test_fp16_structure():
    model = q.convert_fp16(attention_model())
    inits = {t.name: t for t in model.graph.initializer}
    assert inits["wq"].data_type == TensorProto.FLOAT16
    mask = numpy_helper.to_array(inits["causal_mask"])
    assert mask.dtype == np.float16 and np.isfinite(mask).all() and mask.min() == np.float16(-1e4)
    # LayerNormalization is an fp32 island: its own weights stay float32, its input is cast up
    assert inits["ln_scale"].data_type == TensorProto.FLOAT and inits["ln_bias"].data_type == TensorProto.FLOAT
    ln = next(n for n in model.graph.node if n.op_type == "LayerNormalization")
    producer = {o: n for n in model.graph.node for o in n.output}
    assert producer[ln.input[0]].op_type == "Cast"
    softmax = next(n for n in model.graph.node if n.op_type == "Softmax")
    assert producer[softmax.input[0]].op_type == "Cast"
    cast = next(n for n in model.graph.node if n.op_type == "Cast" and n.input[0] == "d_int")
    assert helper.get_attribute_value(cast.attribute[0]) == TensorProto.FLOAT16
    cos = next(n for n in model.graph.node if n.op_type == "ConstantOfShape")
    value = numpy_helper.to_array(helper.get_attribute_value(cos.attribute[0]))
    assert value.dtype == np.float16 and value[0] == np.float16(-1e4)
    # the graph starts with Cast(x → fp16) and ends with Cast(→ fp32)
    assert model.graph.node[0].op_type == "Cast" and model.graph.node[0].input[0] == "x"
    assert model.graph.node[-1].op_type == "Cast" and model.graph.node[-1].output[0] == "y"
    # every tensor type that shape inference finds inside is float16 or an island's float32 (no silent float32)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    float32_values = {v.name for v in inferred.graph.value_info if v.type.tensor_type.elem_type == TensorProto.FLOAT}
    assert float32_values and all(name.endswith("/fp32") for name in float32_values), float32_values


def test_fp16_without_islands_runs():
    model = attention_model()
    x = np.random.default_rng(30).standard_normal((1, 12, 64)).astype(np.float32)
    half = q.convert_fp16(model, keep_fp32_ops=())
    assert all(t.data_type != TensorProto.FLOAT for t in half.graph.initializer)
    y = run_onnx(half, {"x": x})["y"]
    assert np.isfinite(y).all() and cosine(y, run_onnx(model, {"x": x})["y"]) >= 0.999


def test_fp16_attention_arithmetic_in_numpy():
    """Re-run the converted attention graph with float16 rounding after every op, as a GPU without fp32 islands
    would: the converted masks keep it finite where the original -inf / float32-min values would not."""
    model = attention_model()
    half = q.convert_fp16(model, keep_fp32_ops=())
    x = np.random.default_rng(31).standard_normal((1, 12, 64)).astype(np.float32)
    w = {t.name: numpy_helper.to_array(t) for t in half.graph.initializer}
    f16 = np.float16
    h = x.astype(f16)
    qh, kh, vh = (h @ w[name] for name in ("wq", "wk", "wv"))
    scores = (qh @ kh.transpose(0, 2, 1)) / np.sqrt(f16(64))
    mask2 = np.triu(np.full((12, 12), q.float32_to_float16(np.float32([np.finfo(np.float32).min]))[0]), 1)
    masked = (scores + w["causal_mask"]) + mask2  # -1e4 + -1e4 = -2e4: still finite in fp16
    assert masked.dtype == f16 and np.isfinite(masked).all()
    e = np.exp(masked - masked.max(axis=-1, keepdims=True))
    attn = e / e.sum(axis=-1, keepdims=True)
    res = attn @ vh + h
    mean = res.mean(axis=-1, keepdims=True)
    var = ((res - mean) ** 2).mean(axis=-1, keepdims=True)
    y = ((res - mean) / np.sqrt(var + f16(1e-5))) * w["ln_scale"] + w["ln_bias"]
    assert y.dtype == f16 and np.isfinite(y).all()
    reference = run_onnx(model, {"x": x})["y"]
    assert cosine(y.astype(np.float32), reference) >= 0.999
    # the unconverted float32 mask values are not usable in fp16: they overflow to -inf
    with np.errstate(over="ignore"):
        assert np.isneginf(np.float32(np.finfo(np.float32).min).astype(f16))


def test_fp16_rejects_unknown_island_op():
    with pytest.raises(ValueError, match="fp32 island"):
        q.convert_fp16(mlp_model(), keep_fp32_ops=("MatMul",))


def test_several_variants_in_one_node_process():
    """run_onnx_sets runs many input sets through one session (one WASM start-up)."""
    model = q.quantize_q4(mlp_model())
    sets = [{"x": mlp_input(seed)} for seed in range(3)]
    result = run_onnx_sets(model, sets)
    assert len(result.outputs) == 3 and len(result.run_ms) == 3
    single = run_onnx(model, sets[2])["y"]
    np.testing.assert_array_equal(result.outputs[2]["y"], single)
    assert not np.array_equal(result.outputs[0]["y"], result.outputs[1]["y"])


# ---------------------------------------------------------------------------------------------------------------
# Graphs as torch 1.13 exports them (nn.Linear → MatMul(W^T initializer)+Add on 3-D, Gemm(transB=1) on 2-D)


def _export(module, args, input_name: str, output_name: str) -> onnx.ModelProto:
    import io

    import torch

    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            module,
            args,
            buffer,
            input_names=[input_name],
            output_names=[output_name],
            opset_version=OPSET,
            dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
        )
    return onnx.load_from_string(buffer.getvalue())


def _tiny_towers():
    torch = pytest.importorskip("torch")
    from torch import nn

    class TinyText(nn.Module):
        def __init__(self, vocab=1100, width=64, ctx=16, heads=4):
            super().__init__()
            self.tok = nn.Embedding(vocab, width)
            self.pos = nn.Parameter(torch.randn(ctx, width) * 0.01)
            self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
            self.qkv, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)
            self.fc1, self.fc2 = nn.Linear(width, 170), nn.Linear(170, width)  # K = 170: not a multiple of 32
            self.proj = nn.Linear(width, 32)
            self.register_buffer("mask", torch.full((ctx, ctx), float("-inf")).triu_(1), persistent=False)
            self.heads = heads

        def forward(self, ids):  # [B, T] → [B, 32]
            b, t = ids.shape
            x = self.tok(ids) + self.pos[:t]
            qkv = self.qkv(self.ln1(x)).reshape(b, t, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
            att = (qkv[0] @ qkv[1].transpose(-1, -2)) * (qkv.shape[-1] ** -0.5) + self.mask[:t, :t]
            x = x + self.out((att.softmax(-1) @ qkv[2]).transpose(1, 2).reshape(b, t, -1))
            x = x + self.fc2(nn.functional.gelu(self.fc1(self.ln2(x))))
            return self.proj(x[torch.arange(b), ids.argmax(-1)])  # 2-D Linear → Gemm

    class TinyVision(nn.Module):
        def __init__(self, width=48):
            super().__init__()
            self.patch = nn.Conv2d(3, width, 8, stride=8)
            self.ln = nn.LayerNorm(width)
            self.fc = nn.Linear(width, 96)
            self.proj = nn.Linear(96, 32)

        def forward(self, pixels):  # [B, 3, 32, 32] → [B, 32]
            x = self.patch(pixels).flatten(2).transpose(1, 2)  # [B, 16, width]
            return self.proj(nn.functional.gelu(self.fc(self.ln(x))).mean(1))

    torch.manual_seed(0)
    ids = torch.randint(1, 1000, (2, 9))
    ids[:, -1] = 1099  # the EOT token is the largest id
    pixels = torch.randn(2, 3, 32, 32)
    text, vision = TinyText().eval(), TinyVision().eval()
    with torch.no_grad():
        return [
            (_export(text, (ids,), "input_ids", "text_embeds"), {"input_ids": ids.numpy()}, text(ids).numpy()),
            (
                _export(vision, (pixels,), "pixel_values", "image_embeds"),
                {"pixel_values": pixels.numpy()},
                vision(pixels).numpy(),
            ),
        ]


def _float_constants(model: onnx.ModelProto) -> list[np.ndarray]:
    arrays = [numpy_helper.to_array(t) for t in model.graph.initializer]
    for node in model.graph.node:
        arrays += [numpy_helper.to_array(a.t) for a in node.attribute if a.type == onnx.AttributeProto.TENSOR]
    return [a for a in arrays if a.dtype.kind == "f"]


def test_torch_exported_towers():
    for model, feeds, torch_out in _tiny_towers():
        name = model.graph.output[0].name
        assert any(n.op_type == "Gemm" for n in model.graph.node)  # the export really has both linear forms
        assert any(n.op_type == "MatMul" for n in model.graph.node)
        assert cosine(run_onnx(model, feeds)[name], torch_out) > 0.99999
        for convert, floor in ((q.quantize_int8, 0.99), (q.quantize_q4, 0.97), (q.convert_fp16, 0.999)):
            converted = convert(model)
            onnx.checker.check_model(converted)
            out = run_onnx(converted, feeds)[name]
            score = cosine(out, torch_out)
            assert out.dtype == np.float32 and score >= floor, (convert.__name__, score)
            inits = {t.name: t for t in converted.graph.initializer}
            if convert is q.convert_fp16:
                assert all(np.isfinite(a).all() for a in _float_constants(converted)), "an -inf survived"
                continue
            assert not any(n.op_type == "Gemm" for n in converted.graph.node)
            for node in converted.graph.node:  # no float MatMul left with a constant weight
                assert not (node.op_type == "MatMul" and node.input[1] in inits)
                if node.op_type == "Conv":  # Conv stays float32
                    assert inits[node.input[1]].data_type == TensorProto.FLOAT
            if name == "text_embeds":
                assert "tok.weight" not in inits and inits["tok.weight.int8"].data_type == TensorProto.INT8


def test_q4_variant_keeps_all_but_mlp_up_projections_at_8_bits() -> None:
    """EVA node names decide the bit width; ORT's output equals x @ the numpy-dequantized weights."""
    rng = np.random.default_rng(5)
    w_up = rng.normal(0, 0.05, (96, 160)).astype(np.float32)
    w_proj = rng.normal(0, 0.05, (160, 96)).astype(np.float32)
    x = rng.normal(0, 1, (2, 3, 96)).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w_up"], ["h"], name="/visual/blocks.0/mlp/w1/MatMul"),
        helper.make_node("MatMul", ["h", "w_proj"], ["y"], name="/visual/blocks.0/attn/proj/MatMul"),
    ]
    graph = helper.make_graph(
        nodes,
        "mixed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 96])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w_up, "w_up"), numpy_helper.from_array(w_proj, "w_proj")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    quantized = q.quantize_q4(model)
    bits = {n.name: next(a.i for a in n.attribute if a.name == "bits") for n in quantized.graph.node}
    assert sorted(bits.values()) == [4, 8]
    assert [b for name, b in bits.items() if "w1" in name] == [4]
    y = run_onnx(quantized, {"x": x})["y"]
    expected = (x @ q.dequantize_q4(q.quantize_q4_blocks(w_up))) @ q.dequantize_q8(q.quantize_q8_blocks(w_proj))
    assert np.abs(y - expected).max() < 1e-4
