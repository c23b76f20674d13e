"""The app's catalog (src/data/catalog.json) is what the toolchain writes, and the configs and recipes agree."""

from __future__ import annotations

import json

import pytest

from eva_lens.catalog import CATALOG_PATH, HUB_FILE, REPO, build_catalog, catalog_text, listed_configs, recipe_path
from eva_lens.manifest import DTYPES

EVA_CONFIGS = [c for c in listed_configs() if not c.catalog.get("embedded")]


def test_committed_catalog_is_what_the_toolchain_writes() -> None:
    committed = (REPO / CATALOG_PATH).read_text()
    assert committed == catalog_text(
        build_catalog()
    ), "run `npm run models -- catalog` and commit src/data/catalog.json"


def test_catalog_lists_the_demo_then_eva_clip_by_size_with_the_hub_sizes_of_the_recipes() -> None:
    catalog = build_catalog()
    assert [m["id"] for m in catalog["models"]] == [
        "eva-lens-demo",
        "eva02-clip-b-16",
        "eva02-clip-l-14",
        "eva02-clip-l-14-336",
    ]
    # Built = int8 + q4 of both towers + tokenizer, as the recipes say; download = the fp16 checkpoint's size.
    assert [(b["id"], b["downloadBytes"], b["builtBytes"]) for b in catalog["hubBuilds"]] == [
        ("eva02-clip-b-16-hub", 299_427_322, 307_395_875),
        ("eva02-clip-l-14-hub", 855_584_130, 860_005_405),
        ("eva02-clip-l-14-336-hub", 856_239_490, 878_027_809),
    ]
    assert [b["suggested"] for b in catalog["hubBuilds"]] == [True, False, False]
    assert catalog["dtypeBackends"] == {d: DTYPES[d]["backends"] for d in ("int8", "q4", "fp16", "fp32")}


@pytest.mark.parametrize("config", EVA_CONFIGS, ids=lambda c: c.name)
def test_config_and_recipe_agree(config) -> None:  # noqa: ANN001 (a ClipConfig)
    recipe = json.loads(recipe_path(config).read_text())
    published = config.published
    assert recipe["architecture"] == config.name
    assert recipe["hub"] == {"repo": published["hub_repo"], "revision": "main", "file": HUB_FILE}
    assert recipe["manifest"]["id"] == f"{config.name.lower()}-hub"
    metrics = recipe["manifest"]["metrics"]
    assert metrics["imagenet_zero_shot_top1"] == published["imagenet_zero_shot_top1"]
    assert metrics["params_millions"] == published["params_millions"]
    assert recipe["dtypes"] == {d: DTYPES[d] for d in recipe["dtypes"]}
    demo = next(c for c in listed_configs() if c.catalog.get("embedded"))
    demo_tokenizer = json.loads((REPO / demo.catalog["manifest"]).read_text())["text"]["tokenizer"]
    assert recipe["tokenizer"]["bytes"] == demo_tokenizer["bytes"]
    assert recipe["tokenizer"]["sha256"] == demo_tokenizer["sha256"]
    # The measured ONNX sizes (written by convert) and the recipe's built files are the same files.
    measured = config.catalog.get("onnx_bytes")
    if measured:
        for output in recipe["outputs"]:
            assert output["bytes"] == measured[output["dtype"]][output["tower"]]


def test_every_measured_fact_names_its_source() -> None:
    for config in EVA_CONFIGS:
        if "onnx_bytes" in config.catalog:
            assert config.catalog["onnx_bytes"]["source"]
        measured = config.catalog["hub_build"]["measured"]
        if measured is not None:
            assert measured["source"] and measured["machine"]
            assert measured["convert_seconds"] > 0 and measured["verify_seconds"] > 0
