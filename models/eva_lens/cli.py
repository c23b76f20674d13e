"""Command line of the model toolchain (``npm run models -- <command> ...``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DTYPE_HELP = "comma-separated dtypes among fp32, fp16, int8, q4"


def _dtypes(text: str) -> list[str]:
    return [d.strip() for d in text.split(",") if d.strip()]


def cmd_convert(a: argparse.Namespace) -> None:
    from .checkpoint import load_eva_state
    from .clip import EvaClip
    from .config import load_config
    from .package import PackageInfo, build_package

    config = load_config(a.arch)
    model = EvaClip(config)
    model.load_state_dict(load_eva_state(a.checkpoint, config, allow_pickle=a.allow_pickle), strict=True)
    model_id = a.id or config.name.lower()
    published = config.published
    info = PackageInfo(
        model_id=model_id,
        name=a.name or config.name,
        description=f"{config.name} converted from {Path(a.checkpoint).name}",
        license=a.license,
        source=a.source or published.get("hub_repo", ""),
        metrics={k: v for k, v in published.items() if isinstance(v, (int, float))},
    )
    build_package(model, Path(a.out), info, _dtypes(a.dtypes))
    print(f"wrote {a.out}/manifest.json")


def cmd_download(a: argparse.Namespace) -> None:
    from .download import download

    print(download(a.arch, a.layout, Path(a.out), hub=a.hub))


def cmd_random_checkpoint(a: argparse.Namespace) -> None:
    from .random_checkpoint import make_random_checkpoint

    print(make_random_checkpoint(a.arch, a.layout, a.out, seed=a.seed))


def cmd_hub_recipe(a: argparse.Namespace) -> None:
    from .skeleton import build_hub_recipe, record_known_probe

    if not a.known_only:
        build_hub_recipe(a.arch, Path(a.out), dtypes=_dtypes(a.dtypes))
    for checkpoint in a.known_checkpoint or []:
        record_known_probe(Path(a.out), checkpoint, a.note)


def cmd_catalog(a: argparse.Namespace) -> None:
    from .catalog import write_catalog

    print(f"wrote {write_catalog(out=Path(a.out) if a.out else None)}")


def cmd_train_demo(a: argparse.Namespace) -> None:
    from .demo import package_demo, train_and_package

    if a.weights:
        package_demo(Path(a.weights), Path(a.out), Path(a.samples))
    else:
        train_and_package(Path(a.work), Path(a.out), Path(a.samples), steps=a.steps)


def cmd_tokenizer(a: argparse.Namespace) -> None:
    from .tokenizer import write_tokenizer_json

    print(write_tokenizer_json(a.out))


def cmd_fixtures(a: argparse.Namespace) -> None:
    from .preprocess import main as write_preprocess_fixtures

    write_preprocess_fixtures()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eva_lens", description="EVA Lens model toolchain")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("convert", help="checkpoint (.pt/.bin/.safetensors) → ONNX towers + manifest")
    c.add_argument("--checkpoint", required=True)
    c.add_argument("--arch", required=True, help="EVA02-CLIP-B-16, EVA02-CLIP-L-14 or EVA02-CLIP-L-14-336")
    c.add_argument("--out", required=True)
    c.add_argument("--dtypes", default="int8,q4,fp16", help=DTYPE_HELP)
    c.add_argument("--id")
    c.add_argument("--name")
    c.add_argument("--license", default="MIT (EVA-CLIP weights)")
    c.add_argument("--source")
    c.add_argument("--allow-pickle", action="store_true", help="let torch unpickle objects (trusted files only)")
    c.set_defaults(run=cmd_convert)

    d = sub.add_parser("download", help="fetch official weights (needs internet)")
    d.add_argument("--arch", required=True)
    d.add_argument("--layout", choices=["official", "open_clip"], default="open_clip")
    d.add_argument("--out", default="models/.artifacts/checkpoints")
    d.add_argument("--hub", default=None, help="hub base URL (default $EVA_LENS_HUB_URL or the Hugging Face hub)")
    d.set_defaults(run=cmd_download)

    r = sub.add_parser("random-checkpoint", help="random weights with the real key names and shapes")
    r.add_argument("--arch", required=True)
    r.add_argument("--layout", required=True, help="official-pt, open_clip-bin or open_clip-safetensors")
    r.add_argument("--out", required=True)
    r.add_argument("--seed", type=int, default=0)
    r.set_defaults(run=cmd_random_checkpoint)

    h = sub.add_parser("hub-recipe", help="graph skeletons + weight map for building a model in the browser (#9)")
    h.add_argument("--arch", required=True)
    h.add_argument("--out", required=True, help="e.g. public/hub/EVA02-CLIP-B-16")
    h.add_argument("--dtypes", default="int8,q4")
    h.add_argument("--known-checkpoint", action="append", help="record this checkpoint's PyTorch probe embeddings")
    h.add_argument("--note", default="", help="what the known checkpoint is")
    h.add_argument("--known-only", action="store_true", help="only record --known-checkpoint probes")
    h.set_defaults(run=cmd_hub_recipe)

    g = sub.add_parser("catalog", help="write src/data/catalog.json (the app's models and hub builds) from the configs")
    g.add_argument("--out", help="default: src/data/catalog.json in this repository")
    g.set_defaults(run=cmd_catalog)

    t = sub.add_parser("train-demo", help="train the embedded demo model and package it with its samples")
    t.add_argument("--steps", type=int, default=1800)
    t.add_argument("--work", default="models/.artifacts/demo")
    t.add_argument("--out", default="public/models/eva-lens-demo")
    t.add_argument("--samples", default="public/samples")
    t.add_argument("--weights", help="package these trained weights instead of training")
    t.set_defaults(run=cmd_train_demo)

    k = sub.add_parser("tokenizer", help="write the CLIP tokenizer.json")
    k.add_argument("--out", required=True)
    k.set_defaults(run=cmd_tokenizer)

    f = sub.add_parser("fixtures", help="write the preprocessing reference tensors for the TypeScript tests")
    f.set_defaults(run=cmd_fixtures)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "download" and args.hub is None:
            from .download import DEFAULT_HUB

            args.hub = DEFAULT_HUB
        args.run(args)
    except Exception as e:  # one clear line for the person at the terminal, not a traceback
        from .checkpoint import CheckpointError
        from .download import DownloadError

        if isinstance(e, (CheckpointError, DownloadError, ValueError)):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
    return 0
