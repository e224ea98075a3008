"""'Train from this dataset…': a real 20-step training run in a subprocess from a folder the
annotate tool saved, held-out eval, install as a new model version; cancel; broken data."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from test_annotate_dataset import _make


def _dialog(qtbot, tmp_path, ds, steps=20):
    from sonolive.app.annotate.train_dialog import TrainDialog
    from sonolive.models.finetune import FinetunePlan
    from sonolive.models.registry import find_model

    plan = FinetunePlan(
        ds, find_model("nerve-vessel"), tmp_path / "out", steps=steps, input_size=64
    )
    dlg = TrainDialog(plan)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_annotate_train_20_steps_eval_install(qtbot, tmp_path):
    ds = tmp_path / "ward-3"
    _make(ds, {"a.mp4": 3, "b.mp4": 3, "c.mp4": 2})
    dlg = _dialog(qtbot, tmp_path, ds)
    seen = []
    dlg.bar.valueChanged.connect(seen.append)
    with qtbot.waitSignal(dlg.finished, timeout=240000) as done:
        dlg.start_button.click()
        assert dlg.cancel_button.isEnabled()  # the GUI thread is free while it runs
    assert done.args == ["done"], dlg.log.toPlainText()
    assert any(5 < v < 90 for v in seen), "the progress bar should move during training"
    assert dlg.bar.value() == 100
    split = json.loads((ds / "split.json").read_text())
    res = json.loads((tmp_path / "out" / "eval.json").read_text())
    assert res["data"].endswith(f"split/val (all, {len(split['val'])} images)")  # held out only
    card = dlg.card
    assert card.name == "nerve-vessel-ward-3" and card.version == "1.0+ward-3"
    assert card.accuracy["per_class"] == res["per_class"]
    assert "20 steps" in card.training_data and "ward-3" in card.training_data
    assert [c.color for c in card.classes][1] == (255, 215, 0)
    with qtbot.waitSignal(dlg.installed, timeout=60000) as inst:
        dlg.install_button.click()
    from sonolive.models.card import ModelCard
    from sonolive.models.registry import find_model

    folder = find_model("nerve-vessel-ward-3")
    assert str(folder) == inst.args[0]
    assert ModelCard.load(folder).accuracy["per_class"] == res["per_class"]


def test_annotate_train_cancel_and_broken_data(qtbot, tmp_path):
    ds = tmp_path / "ds"
    _make(ds, {"a.mp4": 2, "b.mp4": 2})
    dlg = _dialog(qtbot, tmp_path, ds, steps=100000)
    with qtbot.waitSignal(dlg.finished, timeout=120000) as done:
        dlg.start_button.click()
        qtbot.waitUntil(lambda: dlg.stage == "train", timeout=60000)
        dlg.cancel_button.click()
    assert done.args == ["cancelled"] and dlg.proc is None
    assert not (tmp_path / "out" / "run" / "best").exists()

    # a mask of the wrong size: named, and training never starts
    name = sorted(p.name for p in (ds / "masks").glob("*.png"))[0]
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(ds / "masks" / name)
    dlg2 = _dialog(qtbot, tmp_path / "second", ds)
    with qtbot.waitSignal(dlg2.finished, timeout=60000) as done:
        dlg2.start_button.click()
    assert done.args == ["failed"] and dlg2.stage == "check"
    assert name in dlg2.log.toPlainText() and "12x10" in dlg2.log.toPlainText()
    assert not (tmp_path / "second" / "out" / "run").exists()


def test_annotate_window_train_button_starts_from_current_model(qtbot, tmp_path):
    from sonolive.app.annotate.window import AnnotateWindow
    from sonolive.models.card import ModelCard
    from sonolive.models.registry import find_model

    ds = tmp_path / "ds"
    _make(ds, {"a.mp4": 1, "b.mp4": 1})
    folder = find_model("nerve-vessel")
    aw = AnnotateWindow(ModelCard.load(folder).classes, "me")
    qtbot.addWidget(aw)
    aw.base_model = folder
    aw.show()
    aw.train_button.click()
    assert aw.train_dialog is None  # no dataset folder yet: said in the status line
    assert "dataset folder" in aw.panel.status.text()
    with qtbot.waitSignal(aw.panel.datasetChanged, timeout=10000):
        aw.panel.set_dataset(ds)
    aw.train_button.click()
    dlg = aw.train_dialog
    assert dlg.isVisible() and dlg.plan.dataset == ds and dlg.plan.base_model == folder
    stages = dict(dlg.plan.commands())
    assert stages["train"][stages["train"].index("--init") + 1] == str(folder)
    assert stages["eval"][stages["eval"].index("--data") + 1] == str(ds / "split" / "val")
    aw.shutdown()
    assert not dlg.isVisible()


def test_train_dialog_refuses_too_few_frames_and_says_the_minimum(qtbot, tmp_path):
    """Two frames of one clip: the dialog names the rule and this dataset's counts, and
    Start stays off; the estimate follows the step count."""
    from sonolive.app.annotate.window import AnnotateWindow
    from sonolive.models.card import ModelCard
    from sonolive.models.registry import find_model

    ds = tmp_path / "small"
    _make(ds, {"a.mp4": 2})
    folder = find_model("nerve-vessel")
    aw = AnnotateWindow(ModelCard.load(folder).classes, "me")
    qtbot.addWidget(aw)
    aw.base_model = folder
    aw.show()
    with qtbot.waitSignal(aw.datasets.listed, timeout=10000):
        aw.panel.set_dataset(ds)
    aw.train_button.click()
    dlg = aw.train_dialog
    text = dlg.minimum.text()
    assert "at least 3 annotated frames from at least 2 different clips" in text
    assert "This dataset: 2 frames from 1 sources." in text
    assert not dlg.start_button.isEnabled()
    dlg.start_button.click()
    assert dlg.state == "idle" and dlg.proc is None
    long = dlg.estimate.text()
    dlg.steps.setValue(10)
    assert dlg.estimate.text() != long and "about" in dlg.estimate.text()
    aw.shutdown()
