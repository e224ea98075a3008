"""Quiz results against hostile names and folders (issue 29, group 4): formula-like student
names are written as text, the chosen file name is kept, a broken dataset reaches the window
as a message."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

HOSTILE = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", "＝HYPERLINK()"]


def _session(students):
    from sonolive.inference.tools.quiz import QuizItem, QuizSession

    ref = np.zeros((20, 20), bool)
    ref[5:15, 5:15] = True
    s = QuizSession(
        [QuizItem(np.zeros((20, 20, 3), np.uint8), ref, "nerve", "Nerve", "model", "x")]
    )
    for i, name in enumerate(students):
        traced = np.zeros((20, 20), bool)
        traced[5 : 10 + i, 5:15] = True
        s.score(name, 0, traced, 1)
    return s


def test_formula_names_are_text_and_the_chosen_name_is_kept(tmp_path):
    earlier = tmp_path / "class.csv"
    earlier.write_text("earlier results\n", encoding="utf-8")
    s = _session([*HOSTILE, "Ann", "O'Neil"])
    csv_path, json_path = s.save(tmp_path / "class.2026-12-01.csv")
    assert csv_path == tmp_path / "class.2026-12-01.csv"
    assert json_path == tmp_path / "class.2026-12-01.json"
    assert earlier.read_text(encoding="utf-8") == "earlier results\n"  # not overwritten
    assert not (tmp_path / "class.json").exists()
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cells = [r["student"] for r in rows]
    for name in HOSTILE:
        assert "'" + name in cells  # shown as text, never run as a formula
    assert "Ann" in cells and "O'Neil" in cells  # ordinary names untouched
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert all(float(r["dice"]) >= 0 for r in rows)  # numbers stay numbers
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert {r["student"] for r in doc["records"]} == {*HOSTILE, "Ann", "O'Neil"}

    # a name chosen without .csv: .csv is added, nothing after a dot is replaced
    csv2, json2 = s.save(tmp_path / "term.2")
    assert (csv2.name, json2.name) == ("term.2.csv", "term.2.json")


def test_a_dataset_whose_classes_lack_name_reports_to_the_window(qtbot, tmp_path):
    from sonolive.app.quiz.window import _Loader
    from test_annotate_dataset import _make

    ds = tmp_path / "ds"
    _make(ds, {"a.mp4": 2})
    man = json.loads((ds / "dataset.json").read_text(encoding="utf-8"))
    for c in man["classes"]:
        c.pop("name")
    (ds / "dataset.json").write_text(json.dumps(man), encoding="utf-8")
    loader = _Loader()
    with qtbot.waitSignal(loader.done, timeout=10_000) as sig:
        loader.load(ds)
    items, err = sig.args
    assert items == []
    assert "dataset.json" in err and "name" in err and "\n" not in err


@pytest.mark.parametrize(
    "classes",
    [
        [{"display": "x"}],
        "background",
        [{"name": 5}],
        [{"name": "a", "color": [1, 2]}],
        [{"name": "a"}, {"name": "a"}],
    ],
)
def test_items_from_dataset_with_bad_classes_is_one_data_error(tmp_path, classes):
    from sonolive.inference.tools.quiz import items_from_dataset
    from sonolive.models.datasets import DataError

    (tmp_path / "dataset.json").write_text(
        json.dumps({"classes": classes, "images": {}}), encoding="utf-8"
    )
    with pytest.raises(DataError, match="dataset.json"):
        items_from_dataset(tmp_path)
