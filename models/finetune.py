"""From an annotated dataset to a new model version: the commands, and the card at the end.

The GUI (app/annotate/train_dialog.py) runs these commands one after the other in subprocesses; the
same commands work from a shell. Plan:

1. ``sonolive dataset info DIR``: stops on broken data (the message names the file);
2. ``sonolive dataset split DIR --val F --by source``: held-out frames from other clips;
3. ``sonolive train --data DIR/split/train --init CURRENT --out OUT ...``;
4. ``sonolive eval --model OUT/best --data DIR/split/val --json OUT/eval.json``;

then :func:`finish_card` names the result as a new version of the current model and writes
the held-out figures and the data it was trained on into its card.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .card import ModelCard


@dataclass
class FinetunePlan:
    dataset: Path
    base_model: Path  # the current model's folder (its weights are the starting point)
    out: Path
    steps: int = 200
    batch_size: int = 4
    val: float = 0.2
    input_size: int | None = None  # None: the base card's input height
    device: str = "cpu"

    def commands(self) -> list[tuple[str, list[str]]]:
        """(stage, argv) pairs; argv starts with this Python, so the venv is the same."""
        card = ModelCard.load(self.base_model)
        arch = card.arch or {}
        size = self.input_size or card.input_size[0]
        py = [sys.executable, "-m", "sonolive.app.cli"]
        d = str(self.dataset)
        return [
            ("check", [*py, "dataset", "info", d]),
            ("split", [*py, "dataset", "split", d, "--val", str(self.val), "--by", "source"]),
            (
                "train",
                [
                    *py, "train", "--data", str(self.dataset / "split" / "train"),
                    "--out", str(self.out / "run"), "--name", new_name(card, self.dataset),
                    "--init", str(self.base_model), "--steps", str(self.steps),
                    "--batch-size", str(self.batch_size), "--input-size", str(size),
                    "--width", str(arch.get("width", 8)), "--depth", str(arch.get("depth", 4)),
                    "--device", self.device,
                ],
            ),
            (
                "eval",
                [
                    *py, "eval", "--model", str(self.out / "run" / "best"),
                    "--data", str(self.dataset / "split" / "val"), "--device", self.device,
                    "--json", str(self.out / "eval.json"),
                ],
            ),
        ]  # fmt: skip

    @property
    def result(self) -> Path:
        return self.out / "run" / "best"


def new_name(card: ModelCard, dataset: Path) -> str:
    """``<base>-<dataset folder>``, cut to the 64 characters a model name may have (so that
    Install accepts it, however long the folder's name)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", dataset.name.lower()).strip("-") or "local"
    base = re.sub(r"[^A-Za-z0-9._ -]+", "-", card.name).strip("-. ") or "model"
    return f"{base[:40]}-{slug}"[:64].rstrip("-. ")


def finish_card(plan: FinetunePlan) -> ModelCard:
    """The trained card as a new version of the base: classes and colours of the base (the
    dataset's order), the held-out figures exactly as ``sonolive eval`` wrote them, and the
    data it was trained on."""
    base = ModelCard.load(plan.base_model)
    card = ModelCard.load(plan.result)
    res = json.loads((plan.out / "eval.json").read_text(encoding="utf-8"))
    split = json.loads((plan.dataset / "split.json").read_text(encoding="utf-8"))
    keep = ("data", "frames", "per_class")
    accuracy = {k: res[k] for k in keep if k in res}
    accuracy["command"] = "sonolive eval --model <this> --data " + str(
        Path(plan.dataset.name) / "split" / "val"
    )
    card = dataclasses.replace(
        card,
        classes=list(base.classes),
        version=f"{base.version}+{plan.dataset.name}",
        description=f"{base.name} {base.version} fine-tuned in SonoLive. {card.description}",
        training_data=(
            f"{base.name} {base.version} ({base.training_data}), then {plan.steps} steps on "
            f"{len(split['train'])} annotated frames of {plan.dataset.name} "
            f"({len(split['sources']['train'])} sources); held out: {len(split['val'])} frames "
            f"of {len(split['sources']['val'])} other sources"
        ),
        simulated=False,
        license=base.license,
        attribution=base.attribution,
        accuracy=accuracy,
    )
    card.save(plan.result / "model.json")
    return card
