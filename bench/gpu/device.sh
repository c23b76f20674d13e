#!/usr/bin/env bash
# Runs on the GPU machine lent through `device` (see bench/gpu/README.md): unpacks the payload in .gpu/ (Node, Dawn,
# onnxruntime-web's WebGPU build, graph skeletons, the tokenized class names, the Vulkan loader), fills the B/16
# skeletons with random weights, builds the MatMul ceiling graphs, and runs webgpu-node.mjs. Results go to $OUT.
set -uo pipefail
P=$PWD/.gpu
W=/tmp/evalens-gpu
mkdir -p "$W/bin" "$W/models"
# The Vulkan loader (the NVIDIA driver's ICD is mounted from the host).
for f in "$P"/*.deb; do dpkg -x "$f" /; done; ldconfig
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$ICD" ] && export VK_DRIVER_FILES=$ICD
xz -dc "$P/node.xz" > "$W/bin/node" && chmod +x "$W/bin/node"
xz -dkf "$P/webgpu/dist/linux-x64/dawn.node.xz" "$P/ort/ort-wasm-simd-threaded.asyncify.wasm.xz"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
"$W/bin/node" --version
[ -f "$W/models/matmul.q4.1576x768x3072.onnx" ] || python3 bench/gpu/make_graphs.py "$P/skel" "$W/models"
for part in q4 matmul fp16; do
  DAWN_F16=$([ "$part" = fp16 ] && echo 1 || echo 0) "$W/bin/node" bench/gpu/webgpu-node.mjs "$P" "$W/models" "${OUT:-/tmp}/webgpu-h200-$part.json" "$part" 2>&1 |
    grep -v VerifyEachNodeIsAssignedToAnEp
done
