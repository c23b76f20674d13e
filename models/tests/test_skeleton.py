"""Graph skeletons and weight maps (issue #9), on the demo architecture (same tower code as EVA02, small sizes).

The map is checked the way the browser will use it: from an open_clip-layout checkpoint, apply each entry's ops to
its hub tensor and get the exported initializer bit for bit; the skeleton keeps every other initializer and is small.
"""

import numpy as np
import pytest
import torch
from onnx import numpy_helper

from eva_lens.checkpoint import eva_to_open_clip_name, param_specs
from eva_lens.clip import EvaClip
from eva_lens.config import load_config
from eva_lens.export_onnx import export_image_tower, export_text_tower
from eva_lens.skeleton import apply_ops, strip, weight_map


@pytest.fixture(scope="module")
def demo():
    torch.manual_seed(0)
    model = EvaClip(load_config("EVA-Lens-demo")).eval()
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    return model, state


@pytest.mark.parametrize("tower", ["image", "text"])
def test_weight_map_rebuilds_every_initializer_from_the_hub_names(demo, tower):
    model, state = demo
    graph = export_image_tower(model) if tower == "image" else export_text_tower(model)
    mapped = weight_map(graph, state)
    # Only tensors an official checkpoint holds (no buffers the model computes itself, such as RoPE tables).
    in_checkpoint = {spec.name for spec in param_specs(model.config)}
    hub = {eva_to_open_clip_name(name): value for name, value in state.items() if name in in_checkpoint}
    initializers = {t.name: numpy_helper.to_array(t) for t in graph.graph.initializer}
    for name, entry in mapped.items():
        rebuilt = apply_ops(hub[entry["hub"]], entry["ops"])
        assert rebuilt.shape == initializers[name].shape, name
        assert np.array_equal(rebuilt, initializers[name]), name
    # Every large float weight is mapped: the image tower's MatMul weights arrive transposed, the text tower's
    # fused attention projections as row slices, transposed.
    ops = {tuple(op["op"] for op in entry["ops"]) for entry in mapped.values()}
    assert ("transpose",) in ops
    if tower == "text":
        assert ("slice_rows", "transpose") in ops
    assert any(entry["hub"].startswith("visual.trunk.") for entry in mapped.values()) == (tower == "image")


def test_skeleton_keeps_names_shapes_and_small_constants_only(demo):
    model, state = demo
    graph = export_image_tower(model)
    mapped = weight_map(graph, state)
    skeleton = strip(graph, mapped)
    assert len(skeleton.SerializeToString()) < len(graph.SerializeToString()) / 5
    kept = {t.name: t for t in skeleton.graph.initializer}
    for name, entry in mapped.items():
        assert list(kept[name].dims) == entry["shape"]
        assert not kept[name].raw_data
    unmapped = [t for t in graph.graph.initializer if t.name not in mapped]
    for tensor in unmapped:
        assert kept[tensor.name].SerializeToString() == tensor.SerializeToString()


def test_an_initializer_no_checkpoint_tensor_explains_is_named(demo):
    model, state = demo
    graph = export_image_tower(model)
    stranger = numpy_helper.from_array(np.full((7, 5), 0.25, dtype=np.float32), "mystery")
    graph.graph.initializer.append(stranger)
    with pytest.raises(ValueError, match=r"mystery \[7, 5\]"):
        weight_map(graph, state)
