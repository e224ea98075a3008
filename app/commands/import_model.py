"""``sonolive import-model DIR``: check a model folder and copy it into the user's models."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .options import add_trust_code


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-model",
        help="check a model folder (card + weights) and add it to your models",
        description="Check a model folder (model.json or model.yaml plus safetensors, "
        "TorchScript or ONNX weights), then copy it into your models folder.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="folder holding the card and weights")
    p.add_argument("--force", action="store_true", help="replace a user model of the same name")
    add_trust_code(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ...models.card import CardError
    from ...models.importer import ModelsFolderError, import_model
    from ...models.loader import ModelLoadError
    from ...models.registry import user_models_dir

    if not args.dir.is_dir():
        print(f"error: {args.dir} is not a folder", file=sys.stderr)
        return 2
    try:
        dest = import_model(args.dir, force=args.force, trust_code=args.trust_code)
    except ModelsFolderError as e:
        print(f"error: not imported: {e}", file=sys.stderr)
        return 2
    except (ModelLoadError, CardError) as e:
        print(f"error: not imported: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a read-only home, a models "folder" that is a file
        where = e.filename or user_models_dir()
        print(f"error: not imported: {where}: {e.strerror or e}", file=sys.stderr)
        return 2
    from ...models.card import ModelCard

    card = ModelCard.load(dest)
    print(
        f"imported '{card.name}' ({card.format}, {card.num_classes} classes, "
        f"{card.input_size[0]}x{card.input_size[1]}) into {dest}"
    )
    return 0
