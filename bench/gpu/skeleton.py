"""Graph skeletons for the GPU benchmark: an ONNX file with its large initializers' bytes left out.

The device machine cannot receive 100–350 MB graphs (its working-tree limit is 64 MiB) and has no torch of the
version the exporter was written for. The benchmark only times kernels, which do not depend on weight values, so
the graph travels without its big weights and gets random ones of the same name, shape and dtype there:

    node scripts/python.mjs bench/gpu/skeleton.py strip models/.artifacts/eva02-b16-random/image.q4.onnx out.skel.onnx
    python3 bench/gpu/skeleton.py fill out.skel.onnx image.q4.onnx

Initializers of at most 4 KiB (shapes, axes, small constants) and every integer tensor that is not uint8 (packed
4-bit weights are uint8) are kept exactly, so the graph computes the same shapes.
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

KEEP_BYTES = 4096
FILLED = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.UINT8, TensorProto.INT8}
MARK = "eva_lens_skeleton"


def strip(src: str, dst: str) -> None:
    model = onnx.load(src)
    for tensor in model.graph.initializer:
        size = len(tensor.raw_data) if tensor.raw_data else numpy_helper.to_array(tensor).nbytes
        if tensor.data_type in FILLED and size > KEEP_BYTES:
            tensor.ClearField("raw_data")
            tensor.ClearField("float_data")
            tensor.ClearField("int32_data")
            tensor.doc_string = MARK
    onnx.save(model, dst)


def fill(src: str, dst: str, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    model = onnx.load(src)
    for tensor in model.graph.initializer:
        if tensor.doc_string != MARK:
            continue
        shape = tuple(tensor.dims)
        if tensor.data_type == TensorProto.UINT8:
            values = rng.integers(0, 256, size=shape, dtype=np.uint8)
        elif tensor.data_type == TensorProto.INT8:
            values = rng.integers(-127, 128, size=shape, dtype=np.int8)
        else:
            dtype = np.float16 if tensor.data_type == TensorProto.FLOAT16 else np.float32
            # Small positive-and-negative values: finite in fp16, like trained weights and quantization scales.
            values = (rng.standard_normal(shape) * 0.02).astype(dtype)
        tensor.raw_data = values.tobytes()
        tensor.doc_string = ""
    onnx.save(model, dst)


if __name__ == "__main__":
    {"strip": strip, "fill": fill}[sys.argv[1]](sys.argv[2], sys.argv[3])
