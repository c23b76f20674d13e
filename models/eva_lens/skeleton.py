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
import json
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
                part = value[i * third : (i + 1) * third]
                start = {"op": "slice_rows", "start": i * third, "end": (i + 1) * third}
                out.append(([start], part))
                out.append(([start, {"op": "transpose"}], part.T))
    elif value.ndim == 1 and value.shape[0] % 3 == 0:
        third = value.shape[0] // 3
        for i in range(3):
            out.append(
                ([{"op": "slice_rows", "start": i * third, "end": (i + 1) * third}], value[i * third : (i + 1) * third])
            )
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
            out = out[op["start"] : op["end"]]
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


# ---------------------------------------------------------------------------------------------------------------
# Hub build recipes: the finished (quantized) ONNX file of each tower, with holes where the weights go.
#
# The browser never writes protobuf. The toolchain serializes the finished graph exactly as ``convert`` saves it,
# cuts out the bytes of every weight initializer (their lengths depend only on shapes, so every length prefix around
# them is already right) and records, per hole, its byte offset, the hub tensor and what to do to it. Filling the
# holes with the weights of any checkpoint of the architecture gives the file ``convert`` writes for it, byte for byte.

RECIPE_SCHEMA_VERSION = 1
#: The dtypes the browser builds: int8 for WASM, q4 (MatMulNBits) for WebGPU; fp32 only in tests.
HUB_BUILD_DTYPES = ("int8", "q4")
_QUANTIZERS = {"fp32": None, "int8": "quantize_int8", "q4": "quantize_q4"}
_ITEMSIZE = {TensorProto.FLOAT: 4, TensorProto.INT8: 1, TensorProto.UINT8: 1, TensorProto.FLOAT16: 2}


def convert_with_origins(graph: onnx.ModelProto, dtype: str) -> tuple[onnx.ModelProto, dict[str, dict]]:
    """``package.CONVERTERS[dtype](graph)`` plus where each new weight initializer comes from."""
    from eva_lens import quantize

    if dtype not in _QUANTIZERS:
        raise ValueError(f"the browser cannot build dtype {dtype!r}; choose from {list(_QUANTIZERS)}")
    name = _QUANTIZERS[dtype]
    if name is None:
        return graph, {}
    origins: dict[str, dict] = {}
    return getattr(quantize, name)(graph, origins=origins), origins


def hole_sources(converted: onnx.ModelProto, mapped: Mapping[str, dict], origins: Mapping[str, dict]) -> dict:
    """For each initializer of ``converted`` made from checkpoint weights: its hub tensor, ops and encoding."""
    out: dict[str, dict] = {}
    for tensor in converted.graph.initializer:
        origin = origins.get(tensor.name)
        if origin is not None:
            source = mapped.get(origin["from"])
            if source is None:
                continue  # quantized from a constant the checkpoint does not hold: stays in the skeleton
            if origin.get("alpha", 1.0) != 1.0:
                raise ValueError(f"{tensor.name}: Gemm alpha {origin['alpha']} is not supported by the browser build")
            ops = list(source["ops"]) + ([{"op": "transpose"}] if origin.get("transpose") else [])
            encode = {"kind": origin["kind"], "part": origin["part"]}
            if "blockSize" in origin:
                encode["blockSize"] = origin["blockSize"]
            out[tensor.name] = {"hub": source["hub"], "ops": ops, "encode": encode, "dataType": tensor.data_type}
        elif tensor.name in mapped:
            if tensor.data_type != TensorProto.FLOAT:
                raise ValueError(f"{tensor.name}: expected float32, found ONNX data type {tensor.data_type}")
            source = mapped[tensor.name]
            out[tensor.name] = {
                "hub": source["hub"],
                "ops": list(source["ops"]),
                "encode": {"kind": "float32"},
                "dataType": tensor.data_type,
            }
    return out


#: Constant-node tensors larger than this that repeat an earlier one (RoPE tables, one per block) are cut out too
#: and copied from the first in the browser: it keeps the L/14-336 skeletons at a few hundred kB instead of ~15 MB.
REPEAT_MIN_BYTES = 4096


def serialize_with_holes(model: onnx.ModelProto, names: set[str]) -> tuple[bytes, list[dict], int]:
    """``model`` serialized as ``onnx.save`` writes it, minus the raw bytes of the initializers ``names`` and of
    Constant-node tensors that repeat an earlier one.

    Returns ``(skeleton, holes, total)``: each hole ``{"name", "at", "bytes"}`` is where that initializer's raw data
    starts in the finished file (a repeat also has ``"encode": {"kind": "copy", "from": offset of the first}``);
    ``skeleton`` is the finished file with the holes cut out. The holes are found by filling them with distinct
    random bytes first (real weights may repeat, e.g. zero biases).
    """
    marked = onnx.ModelProto()
    marked.CopyFrom(model)
    rng = np.random.default_rng(1234)
    markers: dict[str, bytes] = {}
    for tensor in marked.graph.initializer:
        if tensor.name not in names:
            continue
        if not tensor.raw_data:
            raise ValueError(f"{tensor.name}: initializer without raw_data cannot be a hole")
        markers[tensor.name] = rng.integers(0, 256, len(tensor.raw_data), dtype=np.uint8).tobytes()
        tensor.raw_data = markers[tensor.name]
    first: dict[bytes, bytes] = {}
    repeats: dict[str, bytes] = {}
    for node in marked.graph.node:
        if node.op_type != "Constant":
            continue
        for attr in node.attribute:
            raw = attr.t.raw_data if attr.type == onnx.AttributeProto.TENSOR else b""
            if len(raw) <= REPEAT_MIN_BYTES:
                continue
            key = hashlib.sha1(raw).digest()
            if key not in first:
                first[key] = raw
                continue
            name = f"{node.output[0]} (repeat)"
            repeats[name] = raw
            markers[name] = rng.integers(0, 256, len(raw), dtype=np.uint8).tobytes()
            attr.t.raw_data = markers[name]
    data = marked.SerializeToString()

    def locate(name: str, content: bytes) -> int:
        at = data.find(content)
        if at < 0 or data.find(content, at + 1) >= 0:
            raise ValueError(f"{name}: could not locate its bytes in the serialized graph")
        return at

    holes = []
    for name, marker in markers.items():
        hole = {"name": name, "at": locate(name, marker), "bytes": len(marker)}
        if name in repeats:
            hole["encode"] = {"kind": "copy", "from": locate(name, repeats[name])}
        holes.append(hole)
    holes.sort(key=lambda h: h["at"])
    pieces, cursor = [], 0
    for hole in holes:
        pieces.append(data[cursor : hole["at"]])
        cursor = hole["at"] + hole["bytes"]
    pieces.append(data[cursor:])
    return b"".join(pieces), holes, len(data)


def encode_weight(value: np.ndarray, encode: Mapping) -> np.ndarray:
    """The bytes (as an array) of one hole from the float32 weight the ops made (the reference for the browser)."""
    from eva_lens import quantize

    kind, part = encode["kind"], encode.get("part")
    if kind == "float32":
        return np.asarray(value, dtype=np.float32)
    if kind == "int8_columns":
        q, scale = quantize.quantize_int8_columns(value)
        return q if part == "q" else scale
    if kind == "int8_rows":
        q, scale = quantize.quantize_int8_rows(value)
        return q if part == "q" else scale
    if kind == "q4_blocks":
        q4 = quantize.quantize_q4_blocks(value, encode["blockSize"])
        return {"codes": q4.packed, "scales": q4.scales, "zero_points": q4.zero_points}[part]
    if kind == "q8_blocks":
        q8 = quantize.quantize_q8_blocks(value, encode["blockSize"])
        return {"codes": q8.codes, "scales": q8.scales, "zero_points": q8.zero_points}[part]
    raise ValueError(f"unknown encoding {kind!r}")


def assemble(skeleton: bytes, output: Mapping, hub: Mapping[str, np.ndarray]) -> bytes:
    """The finished ONNX file of one recipe output from hub tensors (Python twin of src/engine/hubBuild)."""
    out = bytearray(output["bytes"])
    cursor = 0  # in the skeleton
    written = 0  # in the output
    for hole in output["holes"]:
        gap = hole["at"] - written
        out[written : hole["at"]] = skeleton[cursor : cursor + gap]
        cursor += gap
        if hole["encode"]["kind"] == "copy":  # a repeated constant: its first copy is already in place
            start = hole["encode"]["from"]
            data = bytes(out[start : start + hole["bytes"]])
        else:
            data = encode_weight(apply_ops(hub[hole["hub"]], hole["ops"]), hole["encode"]).tobytes()
        if len(data) != hole["bytes"]:
            raise ValueError(f"{hole['name']}: {len(data)} bytes made for a {hole['bytes']}-byte hole")
        out[hole["at"] : hole["at"] + hole["bytes"]] = data
        written = hole["at"] + hole["bytes"]
    out[written:] = skeleton[cursor:]
    return bytes(out)


def display_name(arch: str) -> str:
    """'EVA02-CLIP-B-16' → 'EVA02-CLIP-B/16', 'EVA02-CLIP-L-14-336' → 'EVA02-CLIP-L/14-336' (the papers' spelling)."""
    import re

    return re.sub(r"-([A-Za-z])-(\d+)", r"-\1/\2", arch, count=1)


def _manifest_template(config, model_id: str) -> dict:
    from eva_lens.manifest import SCHEMA_VERSION, image_preprocess

    repo = config.published.get("hub_repo", "")
    return {
        "schemaVersion": SCHEMA_VERSION,
        "id": model_id,
        "name": f"{display_name(config.name)} (from the official weights)",
        "architecture": config.name,
        "description": f"{config.name} built in this browser from open_clip_model.safetensors of {repo}.",
        "license": "MIT (EVA-CLIP weights, BAAI; CLIP BPE vocabulary MIT, OpenAI)",
        "source": f"https://huggingface.co/{repo}",
        "embedDim": config.embed_dim,
        "image": image_preprocess(config),
        "text": {
            "contextLength": config.text.context_length,
            "bosTokenId": 49406,
            "eosTokenId": 49407,
            "padTokenId": 0,
        },
        "metrics": {k: v for k, v in config.published.items() if isinstance(v, (int, float))},
    }


#: Where the app serves the CLIP tokenizer.json (the demo model's; every EVA-CLIP uses the same), from a recipe folder.
APP_TOKENIZER_PATH = "../../models/eva-lens-demo/tokenizer.json"


def build_hub_recipe(
    arch: str, out_dir, dtypes=HUB_BUILD_DTYPES, seed: int = 0, log=print, tokenizer_path: str = APP_TOKENIZER_PATH
) -> dict:
    """Write ``recipe.json`` and ``<tower>.<dtype>.skeleton`` for ``arch`` into ``out_dir``.

    The graphs are exported from random weights (every tensor distinct, so the weight map is unambiguous); the
    recipe does not depend on them: the tests rebuild ``convert``'s files for other weights from it.
    """
    from pathlib import Path

    import torch

    from eva_lens.checkpoint import param_specs
    from eva_lens.clip import EvaClip
    from eva_lens.config import load_config
    from eva_lens.export_onnx import export_image_tower, export_text_tower
    import tempfile

    from eva_lens.manifest import DTYPES, PROBE_TEXT_IDS, sha256_file
    from eva_lens.tokenizer import export_tokenizer
    from eva_lens.random_checkpoint import random_state

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = load_config(arch)
    state = random_state(config, seed)
    model = EvaClip(config).eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    specs = {eva_to_open_clip_name(s.name): list(s.shape) for s in param_specs(config)}
    scale_name = next(name for name in specs if name.endswith("logit_scale"))
    outputs = []
    used: set[str] = {scale_name}
    for tower, export in (("image", export_image_tower), ("text", export_text_tower)):
        log(f"{arch}: exporting the {tower} tower")
        graph = export(model)
        mapped = weight_map(graph, state)
        for dtype in dtypes:
            converted, origins = convert_with_origins(graph, dtype)
            sources = hole_sources(converted, mapped, origins)
            skeleton, holes, total = serialize_with_holes(converted, set(sources))
            path = out_dir / f"{tower}.{dtype}.skeleton"
            path.write_bytes(skeleton)
            for hole in holes:
                if "encode" in hole:
                    continue  # a repeated constant, copied within the file
                hole.update(sources[hole["name"]])
                used.add(hole["hub"])
            outputs.append(
                {
                    "tower": tower,
                    "dtype": dtype,
                    "skeleton": {"path": path.name, "bytes": len(skeleton), "sha256": sha256_file(path)},
                    "bytes": total,
                    "holes": holes,
                }
            )
            log(f"  {path.name}: {len(skeleton) / 1e3:.1f} kB skeleton, {len(holes)} holes, {total / 1e6:.1f} MB built")
    model_id = f"{config.name.lower()}-hub"
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = export_tokenizer(tmp)
        tokenizer_entry = {"path": tokenizer_path, "bytes": tokenizer.stat().st_size, "sha256": sha256_file(tokenizer)}
    recipe = {
        "schemaVersion": RECIPE_SCHEMA_VERSION,
        "architecture": config.name,
        "hub": {
            "repo": config.published.get("hub_repo") or f"local/{config.name}",
            "revision": "main",
            "file": "open_clip_model.safetensors",
        },
        "logitScaleTensor": scale_name,
        "tensors": {name: {"shape": shape} for name, shape in specs.items() if name in used},
        "dtypes": {d: DTYPES[d] for d in dtypes},
        "manifest": _manifest_template(config, model_id),
        "tokenizer": tokenizer_entry,
        "probeTextIds": PROBE_TEXT_IDS,
        "knownProbes": [],
        "outputs": outputs,
    }
    write_recipe(recipe, out_dir)
    return recipe


def write_recipe(recipe: dict, out_dir) -> None:
    from pathlib import Path

    (Path(out_dir) / "recipe.json").write_text(json.dumps(recipe, separators=(",", ":")) + "\n")


def record_known_probe(recipe_dir, checkpoint, note: str, log=print) -> dict:
    """Add the PyTorch fp32 probe embeddings of ``checkpoint`` to the recipe, keyed by the file's sha256, with the
    sha256 of every file ``convert`` makes from it: a browser build from the same bytes is then verified against both
    (probe cosine >= the dtype's minProbeCosine, and the very same files)."""
    from pathlib import Path

    from eva_lens.checkpoint import load_eva_state
    from eva_lens.clip import EvaClip
    from eva_lens.config import load_config
    from eva_lens.export_onnx import export_image_tower, export_text_tower
    from eva_lens.manifest import sha256_file
    from eva_lens.package import CONVERTERS, probe_embeddings

    recipe_dir = Path(recipe_dir)
    recipe = json.loads((recipe_dir / "recipe.json").read_text())
    config = load_config(recipe["architecture"])
    model = EvaClip(config).eval()
    model.load_state_dict(load_eva_state(checkpoint, config), strict=True)
    image, text = probe_embeddings(model)
    digest = sha256_file(Path(checkpoint))
    files = {}
    for tower, export in (("image", export_image_tower), ("text", export_text_tower)):
        graph = export(model)
        for dtype in sorted({o["dtype"] for o in recipe["outputs"] if o["tower"] == tower}):
            data = CONVERTERS[dtype](graph).SerializeToString()
            files[f"{tower}.{dtype}.onnx"] = hashlib.sha256(data).hexdigest()
    known = [k for k in recipe.get("knownProbes", []) if k["checkpointSha256"] != digest]
    known.append(
        {
            "checkpointSha256": digest,
            "note": note,
            "imageEmbedding": [float(x) for x in image],
            "textEmbedding": [float(x) for x in text],
            "files": files,
        }
    )
    recipe["knownProbes"] = known
    write_recipe(recipe, recipe_dir)
    log(f"recorded the probe of {Path(checkpoint).name} (sha256 {digest[:12]}…) in {recipe_dir / 'recipe.json'}")
    return recipe
