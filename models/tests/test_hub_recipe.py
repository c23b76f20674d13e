"""Hub build recipes (issue #9): the finished ONNX files with holes where the weights go, on the demo architecture.

The recipe is made from one set of random weights and used on a checkpoint with other weights: filling its holes
must give, byte for byte, the files ``npm run models -- convert`` writes for that checkpoint. The files written here
(models/.artifacts/hub-demo) are what the TypeScript builder is tested against (src/engine/hub/*.test.ts).
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from eva_lens.checkpoint import read_checkpoint
from eva_lens.cli import main
from eva_lens.manifest import sha256_file
from eva_lens.skeleton import assemble, build_hub_recipe, display_name, record_known_probe, serialize_with_holes

ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts" / "hub-demo"
ARCH = "EVA-Lens-demo"


@pytest.fixture(scope="module")
def hub_demo():
    """Recipe (fp32, int8, q4) from seed-0 weights; a seed-7 checkpoint; the converter's package of that checkpoint."""
    recipe_dir = ARTIFACTS / "recipe"
    recipe = build_hub_recipe(ARCH, recipe_dir, dtypes=("fp32", "int8", "q4"), log=lambda _: None)
    assert (
        main(
            [
                "random-checkpoint",
                "--arch",
                ARCH,
                "--layout",
                "open_clip-safetensors",
                "--out",
                str(ARTIFACTS / "open_clip_model.safetensors"),
                "--seed",
                "7",
            ]
        )
        == 0
    )
    checkpoint = ARTIFACTS / "open_clip_model.safetensors"
    assert (
        main(
            [
                "convert",
                "--checkpoint",
                str(checkpoint),
                "--arch",
                ARCH,
                "--out",
                str(ARTIFACTS / "convert"),
                "--dtypes",
                "fp32,int8,q4",
                "--id",
                "hub-demo",
            ]
        )
        == 0
    )
    manifest = json.loads((ARTIFACTS / "convert" / "manifest.json").read_text())
    return recipe_dir, recipe, checkpoint, manifest


def test_filling_the_holes_gives_the_converters_files_byte_for_byte(hub_demo):
    recipe_dir, recipe, checkpoint, manifest = hub_demo
    hub = {k: np.asarray(v, dtype=np.float32) for k, v in read_checkpoint(checkpoint).items()}
    files = {v["dtype"]: v for v in manifest["variants"]}
    assert {(o["tower"], o["dtype"]) for o in recipe["outputs"]} == {
        (t, d) for t in ("image", "text") for d in ("fp32", "int8", "q4")
    }
    for output in recipe["outputs"]:
        built = assemble((recipe_dir / output["skeleton"]["path"]).read_bytes(), output, hub)
        expected = files[output["dtype"]]["imageModel" if output["tower"] == "image" else "textModel"]
        assert len(built) == expected["bytes"] == output["bytes"]
        assert hashlib.sha256(built).hexdigest() == expected["sha256"], (output["tower"], output["dtype"])


def test_the_recipe_names_every_hub_tensor_it_reads_with_its_shape(hub_demo):
    _, recipe, checkpoint, _ = hub_demo
    hub = read_checkpoint(checkpoint)
    read = {h["hub"] for o in recipe["outputs"] for h in o["holes"] if "hub" in h} | {recipe["logitScaleTensor"]}
    assert read == set(recipe["tensors"])
    for name, entry in recipe["tensors"].items():
        assert list(np.shape(hub[name])) == entry["shape"], name
    kinds = {hole["encode"]["kind"] for output in recipe["outputs"] for hole in output["holes"]}
    assert kinds == {"float32", "int8_columns", "int8_rows", "q4_blocks", "q8_blocks", "copy"}
    assert recipe["manifest"]["name"] == "EVA-Lens-demo (from the official weights)"
    assert display_name("EVA02-CLIP-L-14-336") == "EVA02-CLIP-L/14-336"


def test_skeletons_are_small_and_checksummed(hub_demo):
    recipe_dir, recipe, _, _ = hub_demo
    for output in recipe["outputs"]:
        path = recipe_dir / output["skeleton"]["path"]
        assert sha256_file(path) == output["skeleton"]["sha256"]
        assert output["skeleton"]["bytes"] + sum(h["bytes"] for h in output["holes"]) == output["bytes"]
        holes = output["holes"]
        assert all(a["at"] + a["bytes"] <= b["at"] for a, b in zip(holes, holes[1:])), "holes overlap"
    text_fp32 = next(o for o in recipe["outputs"] if o["tower"] == "text" and o["dtype"] == "fp32")
    assert text_fp32["skeleton"]["bytes"] < text_fp32["bytes"] / 50


def test_a_known_checkpoint_records_the_converters_probe(hub_demo, tmp_path):
    recipe_dir, _, checkpoint, manifest = hub_demo
    copy = tmp_path / "recipe"
    copy.mkdir()
    (copy / "recipe.json").write_bytes((recipe_dir / "recipe.json").read_bytes())
    recipe = record_known_probe(copy, checkpoint, "seed 7", log=lambda _: None)
    (known,) = recipe["knownProbes"]
    assert known["checkpointSha256"] == sha256_file(checkpoint)
    assert np.allclose(known["imageEmbedding"], manifest["probe"]["imageEmbedding"], atol=1e-6)
    assert np.allclose(known["textEmbedding"], manifest["probe"]["textEmbedding"], atol=1e-6)
    expected = {
        f: v[k]["sha256"]
        for v in manifest["variants"]
        for f, k in ((v["imageModel"]["path"], "imageModel"), (v["textModel"]["path"], "textModel"))
    }
    assert known["files"] == expected
    # Recording again replaces the entry rather than adding a second one.
    assert len(record_known_probe(copy, checkpoint, "again", log=lambda _: None)["knownProbes"]) == 1


def test_holes_are_found_even_where_weights_repeat():
    from onnx import TensorProto, helper

    zeros = numpy_helper.from_array(np.zeros((4, 4), dtype=np.float32), "a")
    same = numpy_helper.from_array(np.zeros((4, 4), dtype=np.float32), "b")
    node = helper.make_node("Add", ["a", "b"], ["y"])
    graph = helper.make_graph(
        [node], "g", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 4])], [zeros, same]
    )
    model = helper.make_model(graph)
    skeleton, holes, total = serialize_with_holes(model, {"a", "b"})
    assert total == len(model.SerializeToString())
    assert [h["name"] for h in holes] == ["a", "b"] and all(h["bytes"] == 64 for h in holes)
    assert len(skeleton) == total - 128


def test_an_unknown_dtype_is_refused():
    from eva_lens.skeleton import convert_with_origins

    with pytest.raises(ValueError, match="cannot build dtype 'fp8'"):
        convert_with_origins(onnx.ModelProto(), "fp8")
