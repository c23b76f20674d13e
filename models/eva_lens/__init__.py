"""EVA Lens model toolchain: EVA-CLIP in PyTorch, checkpoint conversion, ONNX export, quantization, demo training."""
