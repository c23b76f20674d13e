#!/usr/bin/env bash
# Builds .gpu/ (ignored by git), the payload bench/gpu/device.sh needs on the GPU machine (which has Python with onnx and numpy, but
# no Node, no npm registry and no Vulkan loader, and takes at most 64 MiB with the working tree): Node (xz), Dawn for
# Node (npm `webgpu`), onnxruntime-web's WebGPU build, the B/16 graph skeletons, the tokenized class names and the
# Vulkan/GL loader packages. Needs the random B/16 in models/.artifacts/eva02-b16-random (pytest writes it).
set -euo pipefail
cd "$(dirname "$0")/../.."
P=.gpu
rm -rf "$P" && mkdir -p "$P/webgpu/dist/linux-x64" "$P/ort" "$P/skel"
xz -9 -T2 -c "$(command -v node)" > "$P/node.xz"
tmp=$(mktemp -d)
(cd "$tmp" && npm pack webgpu@0.6.2 >/dev/null && tar xzf webgpu-0.6.2.tgz)
cp "$tmp/package/index.js" "$tmp/package/package.json" "$P/webgpu/"
xz -6 -T2 -c "$tmp/package/dist/linux-x64/dawn.node" > "$P/webgpu/dist/linux-x64/dawn.node.xz"
rm -rf "$tmp"
ORT=node_modules/onnxruntime-web/dist
cp "$ORT/ort.webgpu.min.mjs" "$ORT/ort-wasm-simd-threaded.asyncify.mjs" "$P/ort/"
xz -6 -T2 -c "$ORT/ort-wasm-simd-threaded.asyncify.wasm" > "$P/ort/ort-wasm-simd-threaded.asyncify.wasm.xz"
for f in image.fp16 image.q4 text.fp16 text.q4; do
  node scripts/python.mjs bench/gpu/skeleton.py strip "models/.artifacts/eva02-b16-random/$f.onnx" "$P/skel/$f.skel.onnx"
done
node scripts/python.mjs - <<'PY'
import json
from eva_lens.tokenizer import ClipBpeReference
tokenizer = ClipBpeReference(text_fixer="nfc")
names = json.load(open("bench/imagenet_classnames.json"))
json.dump([tokenizer.encode(f"a photo of a {name}.") for name in names], open(".gpu/text_ids.json", "w"))
PY
(cd "$P" && apt-get download libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2 >/dev/null)
du -sh "$P"
