"""Export the two towers of an ``EvaClip`` to ONNX (opset 17), each on its own.

* image: ``pixel_values`` float32 [batch, 3, S, S] → ``image_embeds`` float32 [batch, D]
* text: ``input_ids`` int64 [batch, seq] → ``text_embeds`` float32 [batch, D], ``seq`` dynamic (≤ context length)

Embeddings are not L2-normalised in the graph: the app normalises, and keeping the raw projection lets tests compare
with PyTorch's ``encode_*`` directly. The export wrappers compute only the pooled token in the last block (class token
for images, end-of-text token for text), which gives the same numbers for less work.
"""

from __future__ import annotations

import io
from pathlib import Path

import onnx
import torch

from .clip import EvaClip, ImageEncoderForExport, TextEncoderForExport

OPSET = 17


def _export(module: torch.nn.Module, args: tuple, input_name: str, output_name: str, dynamic: dict) -> onnx.ModelProto:
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            module,
            args,
            buf,
            input_names=[input_name],
            output_names=[output_name],
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
        )
    model = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(model)
    return model


def export_image_tower(model: EvaClip) -> onnx.ModelProto:
    size = model.config.vision.image_size
    dummy = torch.zeros(1, 3, size, size)
    return _export(
        ImageEncoderForExport(model).eval(),
        (dummy,),
        "pixel_values",
        "image_embeds",
        {"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}},
    )


def export_text_tower(model: EvaClip) -> onnx.ModelProto:
    # Two prompts of different lengths so that nothing specialises on one EOT position or one length.
    ids = torch.tensor([[49406, 320, 1125, 49407, 0, 0], [49406, 320, 1125, 539, 320, 49407]], dtype=torch.long)
    return _export(
        TextEncoderForExport(model).eval(),
        (ids,),
        "input_ids",
        "text_embeds",
        {"input_ids": {0: "batch", 1: "sequence"}, "text_embeds": {0: "batch"}},
    )


def export_towers(model: EvaClip, out_dir: Path) -> dict[str, Path]:
    """Write ``image.fp32.onnx`` and ``text.fp32.onnx`` into ``out_dir``."""
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"image": out_dir / "image.fp32.onnx", "text": out_dir / "text.fp32.onnx"}
    onnx.save(export_image_tower(model), paths["image"])
    onnx.save(export_text_tower(model), paths["text"])
    return paths
