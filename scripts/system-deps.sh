#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing (Chromium for Playwright; Firefox ESR, WebKitGTK's
# WebKitWebDriver + MiniBrowser and Xvfb for the cross-engine suite e2e-engines/; Python with torch/onnx
# for the model toolchain, OpenBLAS so torch is not 10x slower, avifenc for the AVIF test image). Needs root;
# otherwise it says what to install.
set -euo pipefail
packages=(chromium firefox-esr webkit2gtk-driver xvfb xauth python3 python3-torch python3-onnx python3-numpy python3-pil python3-pytest python3-regex python3-flake8 black libopenblas0-pthread libavif-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
