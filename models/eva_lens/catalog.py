"""The app's model catalog, ``src/data/catalog.json``, written from the configs, the hub recipes and the demo manifest.

Every fact the model picker shows comes from one place: published accuracy and parameter counts from
``configs/*.json`` (``published``), what only a run measured (ONNX sizes, hub build times) from the same configs
(``catalog``, each with its source), hub repos and built sizes from ``public/hub/*/recipe.json``, the demo model's
files from its committed manifest. ``npm run models -- catalog`` writes it; ``models/tests/test_catalog.py`` checks
that the committed file is what this writes and that configs and recipes agree.
"""

from __future__ import annotations

import json
from pathlib import Path

from .config import ClipConfig, list_configs, load_config
from .manifest import DTYPES

REPO = Path(__file__).resolve().parents[2]
CATALOG_PATH = Path("src/data/catalog.json")
HUB_DIR = Path("public/hub")
#: The order a row offers its variants in (int8 for WASM first, then 4-bit, then the larger floats).
VARIANT_ORDER = ("int8", "q4", "fp16", "fp32")
#: The checkpoint the browser downloads from each hub repo (open_clip's layout).
HUB_FILE = "open_clip_model.safetensors"


def listed_configs() -> list[ClipConfig]:
    """Configs with a ``catalog`` block: the embedded model first, then by size (parameter count)."""
    configs = [c for c in map(load_config, list_configs()) if c.catalog]
    return sorted(configs, key=lambda c: (not c.catalog.get("embedded", False), c.published.get("params_millions", 0)))


def recipe_path(config: ClipConfig, repo: Path = REPO) -> Path:
    return repo / HUB_DIR / config.name / "recipe.json"


def checkpoint_bytes(config: ClipConfig) -> int:
    """Size of the hub's fp16 ``open_clip_model.safetensors``: the real names and shapes with ``{"format": "pt"}``
    metadata (what the hub stand-in of the tests serves, less the note that says its weights are random)."""
    from .checkpoint import eva_to_open_clip_name, param_specs
    from .safetensors_io import TensorSpec, file_size

    specs = [TensorSpec(eva_to_open_clip_name(s.name), "F16", s.shape) for s in param_specs(config)]
    return file_size(specs, {"format": "pt"})


def _demo_entry(config: ClipConfig, repo: Path) -> dict:
    """The embedded model: its files and backends read from the manifest the app serves."""
    manifest = json.loads((repo / config.catalog["manifest"]).read_text())
    metrics = manifest["metrics"]
    tokenizer = manifest["text"]["tokenizer"]["bytes"]
    return {
        "id": manifest["id"],
        "name": manifest["name"],
        "architecture": config.name,
        "paramsM": None,
        "imagenetTop1": None,
        "qualitySource": (
            f"Trained by this project on synthetic shapes: {metrics['zeroShotTop1TrainedCombinations'] * 100:.1f}% "
            f"top-1 on its {metrics['prompts']} trained prompts."
        ),
        "license": config.catalog["license"],
        "sourceUrl": None,
        "speed": config.catalog["speed"],
        "variants": [
            {
                "dtype": v["dtype"],
                "bytes": v["imageModel"]["bytes"] + v["textModel"]["bytes"] + tokenizer,
                "measured": True,
                "backends": v["backends"],
            }
            for v in manifest["variants"]
        ],
        "embedded": True,
    }


def _variants(config: ClipConfig, measured: ClipConfig, tokenizer_bytes: int) -> list[dict]:
    """Image + text graph + tokenizer per dtype: measured for ``measured``'s architecture, else scaled from it by
    parameter count (and marked as an estimate)."""
    sizes = measured.catalog["onnx_bytes"]
    scale = config.published["params_millions"] / measured.published["params_millions"]
    return [
        {
            "dtype": dtype,
            "bytes": round((sizes[dtype]["image"] + sizes[dtype]["text"]) * scale) + tokenizer_bytes,
            "measured": config.name == measured.name,
            "backends": DTYPES[dtype]["backends"],
        }
        for dtype in VARIANT_ORDER
    ]


def _model_entry(config: ClipConfig, measured: ClipConfig, tokenizer_bytes: int) -> dict:
    from .skeleton import display_name

    return {
        "id": config.name.lower(),
        "name": display_name(config.name),
        "architecture": config.name,
        "paramsM": config.published["params_millions"],
        "imagenetTop1": config.published["imagenet_zero_shot_top1"],
        "qualitySource": config.catalog["quality_source"],
        "license": config.catalog["license"],
        "sourceUrl": config.catalog["source_url"],
        "speed": config.catalog["speed"],
        "variants": _variants(config, measured, tokenizer_bytes),
        "embedded": False,
    }


def _hub_build(config: ClipConfig, recipe: dict) -> dict:
    from .skeleton import display_name

    build = config.catalog["hub_build"]
    measured = build["measured"]
    return {
        "id": recipe["manifest"]["id"],
        "name": display_name(config.name),
        "architecture": config.name,
        "recipePath": (HUB_DIR / config.name / "recipe.json").relative_to("public").as_posix(),
        "hubRepo": recipe["hub"]["repo"],
        "hubFile": recipe["hub"]["file"],
        "license": config.catalog["license"],
        "imagenetTop1": recipe["manifest"]["metrics"].get("imagenet_zero_shot_top1"),
        "downloadBytes": checkpoint_bytes(config),
        "builtBytes": sum(o["bytes"] for o in recipe["outputs"]) + recipe["tokenizer"]["bytes"],
        "suggested": build["suggested"],
        "measuredBuild": measured
        and {
            "convertSeconds": measured["convert_seconds"],
            "verifySeconds": measured["verify_seconds"],
            "machine": measured["machine"],
            "source": measured["source"],
        },
    }


def build_catalog(repo: Path = REPO) -> dict:
    configs = listed_configs()
    demo = [c for c in configs if c.catalog.get("embedded")]
    eva = [c for c in configs if not c.catalog.get("embedded")]
    measured = next(c for c in eva if "onnx_bytes" in c.catalog)
    demo_entries = [_demo_entry(c, repo) for c in demo]
    # Every EVA-CLIP uses the CLIP tokenizer.json the demo model serves.
    tokenizer_bytes = json.loads((repo / demo[0].catalog["manifest"]).read_text())["text"]["tokenizer"]["bytes"]
    hub_builds = [
        _hub_build(c, json.loads(recipe_path(c, repo).read_text())) for c in eva if recipe_path(c, repo).exists()
    ]
    return {
        "note": "Written by `npm run models -- catalog` from models/eva_lens/configs and public/hub; do not edit.",
        "dtypeBackends": {dtype: DTYPES[dtype]["backends"] for dtype in VARIANT_ORDER},
        "models": demo_entries + [_model_entry(c, measured, tokenizer_bytes) for c in eva],
        "hubBuilds": hub_builds,
    }


def catalog_text(catalog: dict) -> str:
    return json.dumps(catalog, indent=2, ensure_ascii=False) + "\n"


def write_catalog(repo: Path = REPO, out: Path | None = None) -> Path:
    path = out or repo / CATALOG_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(catalog_text(build_catalog(repo)))
    return path
