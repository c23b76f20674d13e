"""The command line: convert a checkpoint end to end, fail fast and clearly where it must."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from eva_lens.random_checkpoint import make_random_checkpoint

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "models")}
    return subprocess.run(
        [sys.executable, "-m", "eva_lens", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_convert_official_layout_end_to_end(tmp_path: Path) -> None:
    ckpt = make_random_checkpoint("EVA-Lens-demo", "official-pt", tmp_path / "demo.pt", seed=1)
    out = tmp_path / "model"
    res = cli(
        "convert", "--checkpoint", str(ckpt), "--arch", "EVA-Lens-demo", "--out", str(out), "--dtypes", "int8,q4,fp16"
    )
    assert res.returncode == 0, res.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert [v["dtype"] for v in manifest["variants"]] == ["int8", "q4", "fp16"]
    for v in manifest["variants"]:
        for key in ("imageModel", "textModel"):
            assert (out / v[key]["path"]).stat().st_size == v[key]["bytes"]
    assert (out / "tokenizer.json").exists()


def test_convert_wrong_arch_names_the_right_one(tmp_path: Path) -> None:
    ckpt = make_random_checkpoint("EVA-Lens-demo", "open_clip-safetensors", tmp_path / "demo.safetensors", seed=1)
    res = cli("convert", "--checkpoint", str(ckpt), "--arch", "EVA02-CLIP-B-16", "--out", str(tmp_path / "x"))
    assert res.returncode == 2
    assert "EVA-Lens-demo" in res.stderr and "Traceback" not in res.stderr


def test_convert_rejects_a_file_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    bogus = tmp_path / "model.safetensors"
    bogus.write_text("<html>not found</html>")
    res = cli("convert", "--checkpoint", str(bogus), "--arch", "EVA-Lens-demo", "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and res.stderr.startswith("error:") and "Traceback" not in res.stderr


def test_download_fails_fast_without_network(tmp_path: Path) -> None:
    started = time.monotonic()
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once, like a machine offline.
    res = cli("download", "--arch", "EVA02-CLIP-B-16", "--hub", "http://127.0.0.1:9", "--out", str(tmp_path))
    assert res.returncode == 2
    assert time.monotonic() - started < 30
    assert "could not download" in res.stderr and "convert --checkpoint" in res.stderr


def test_unknown_arch_lists_the_known_ones(tmp_path: Path) -> None:
    res = cli("random-checkpoint", "--arch", "EVA02-CLIP-X", "--layout", "official-pt", "--out", str(tmp_path / "x.pt"))
    assert res.returncode == 2 and "EVA02-CLIP-B-16" in res.stderr
