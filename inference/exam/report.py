"""The exam report: one page of PDF (fpdf2) and ``exam.json`` beside it (Qt-free).

The page holds the key frame and the finding of every recorded view, the model's suggestion
with its confidence (apart from the finding), the missing views, the times, the model with
its training-data statement, and "Not for diagnostic use".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .checklist import FINDING_LABEL, VIEW_BY_KEY, VIEWS, Exam
from .dicom_write import NOT_DIAGNOSTIC, Identity


@dataclass
class ModelInfo:
    name: str = ""
    version: str = ""
    training_data: str = ""
    simulated: bool = False
    classes: list[tuple[str, str]] = field(default_factory=list)  # (name, display), card order

    @classmethod
    def from_card(cls, card) -> ModelInfo:
        if card is None:
            return cls()
        return cls(
            card.name,
            card.version,
            card.training_data,
            bool(card.simulated),
            [(c.name, c.display) for c in card.classes],
        )


def _latin(text: str) -> str:
    """The PDF's core font holds Latin-1 only: other characters become close ones or '?'."""
    text = text.replace("–", "-").replace("—", "-").replace("’", "'").replace("“", '"')
    return text.replace("”", '"').encode("latin-1", "replace").decode("latin-1")


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60:02d}:{s % 60:02d}"


def exam_record(
    exam: Exam, model: ModelInfo, identity: Identity, deidentified: bool, files: dict[str, Any]
) -> dict[str, Any]:
    """What ``exam.json`` holds."""
    return {
        "not_for_diagnostic_use": True,
        "started": exam.started.isoformat(timespec="seconds"),
        "duration_s": round(exam.elapsed(), 1),
        "views_done": exam.progress(),
        "missing": exam.missing,
        "views": [exam.views[k].summary() for k in exam.done],
        "deidentified": deidentified,
        "identity": None if deidentified else identity.as_dict(),
        "model": {
            "name": model.name,
            "version": model.version,
            "training_data": model.training_data,
            "simulated": model.simulated,
        },
        "files": files,
    }


def report_pdf(exam: Exam, model: ModelInfo, identity: Identity, deidentified: bool) -> bytes:
    """The one-page A4 report as PDF bytes."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title("eFAST exam report")
    pdf.set_creator("SonoLive")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 9, "eFAST exam", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(180, 0, 0)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 6, NOT_DIAGNOSTIC, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("helvetica", "", 9)
    if deidentified:
        who = "De-identified (teaching): no patient identity recorded"
    else:
        who = (
            f"Patient: {identity.patient_name.replace('^', ', ') or '-'}   "
            f"ID: {identity.patient_id or '-'}   Born: {identity.birth_date or '-'}   "
            f"Accession: {identity.accession or '-'}"
        )
    pdf.cell(0, 5, _latin(who), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        5,
        f"Started {exam.started:%Y-%m-%d %H:%M:%S}   duration {_clock(exam.elapsed())}   "
        f"views done {exam.progress()}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if exam.missing:
        pdf.set_text_color(200, 60, 0)
        pdf.set_font("helvetica", "B", 10)
        missing = ", ".join(VIEW_BY_KEY[k].label for k in exam.missing)
        pdf.cell(0, 6, _latin(f"Missing views: {missing}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    # the views: 4 columns x 2 rows of key frames with their findings
    cols, cell_w, img_h = 4, 45.5, 42.0
    x0, y0 = pdf.l_margin, pdf.get_y() + 2
    for i, v in enumerate(VIEWS):
        x = x0 + (i % cols) * (cell_w + 1.5)
        y = y0 + (i // cols) * (img_h + 22)
        rec = exam.views.get(v.key)
        pdf.set_xy(x, y)
        pdf.set_font("helvetica", "B", 9)
        pdf.cell(cell_w, 5, v.label)
        if rec is None:
            pdf.set_draw_color(200, 60, 0)
            pdf.rect(x, y + 5, cell_w, img_h)
            pdf.set_xy(x, y + 5 + img_h / 2 - 3)
            pdf.set_text_color(200, 60, 0)
            pdf.cell(cell_w, 6, "missing", align="C")
            pdf.set_text_color(0, 0, 0)
            pdf.set_draw_color(0, 0, 0)
            continue
        img = Image.fromarray(rec.key_image)
        w, h = img.size
        k = min(cell_w / w, img_h / h)
        pdf.image(img, x=x + (cell_w - w * k) / 2, y=y + 5, w=w * k, h=h * k)
        pdf.set_xy(x, y + 5 + img_h + 0.5)
        pdf.set_font("helvetica", "B", 8)
        finding = FINDING_LABEL.get(rec.finding or "", "finding not recorded")
        pdf.cell(cell_w, 4, _latin(f"Finding: {finding}"), new_x="LEFT", new_y="NEXT")
        pdf.set_font("helvetica", "", 7)
        if rec.suggestion:
            conf = rec.suggestion_confidence or 0.0
            sug = f"Model suggested {VIEW_BY_KEY[rec.suggestion].label} ({conf:.2f})"
        else:
            sug = "No model suggestion"
        pdf.cell(cell_w, 3.5, _latin(sug), new_x="LEFT", new_y="NEXT")
        pdf.cell(cell_w, 3.5, f"at {_clock(rec.recorded_s)}, clip {len(rec.clip)} frames")
    pdf.set_xy(x0, y0 + 2 * (img_h + 22) + 2)
    pdf.set_font("helvetica", "B", 9)
    pdf.cell(
        0,
        5,
        _latin(f"Model: {model.name or 'none'} {model.version}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("helvetica", "", 8)
    statement = (model.training_data or "no training-data statement")[:700]
    pdf.multi_cell(0, 4, _latin(f"Trained on: {statement}"), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0,
        4,
        "Findings are the physician's. The model's view suggestions are shown apart and are "
        "made only on pictures its training-data check accepts.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_y(-18)
    pdf.set_font("helvetica", "B", 10)
    pdf.set_text_color(180, 0, 0)
    pdf.cell(0, 6, f"SonoLive - {NOT_DIAGNOSTIC}", align="C")
    return bytes(pdf.output())


def clip_report_pdf(summary: dict[str, Any], model: ModelInfo, key_image=None) -> bytes:
    """One page for a processed clip (``process --dicom``): the input, the frames, the
    classes found, how much of it the training-data check accepted, the key frame, the model
    and its training data, and "Not for diagnostic use"."""
    from pathlib import Path

    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title("SonoLive clip report")
    pdf.set_creator("SonoLive")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(
        0,
        9,
        _latin(f"Clip: {Path(str(summary.get('input', ''))).name}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(180, 0, 0)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 6, NOT_DIAGNOSTIC, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("helvetica", "", 9)
    frac = summary.get("in_distribution_fraction")
    lines = [
        f"{summary.get('frames', 0)} frames, {summary.get('fps', 0)} fps, "
        f"{summary.get('duration_s', 0)} s",
        "Frames like the model's training data: "
        + ("not checked" if frac is None else f"{100 * frac:.0f}%"),
    ]
    for name, c in (summary.get("classes") or {}).items():
        lines.append(f"{name}: present in {c.get('frames_present', c.get('frames', 0))} frames")
    for ln in lines:
        pdf.cell(0, 5, _latin(ln), new_x="LMARGIN", new_y="NEXT")
    if key_image is not None:
        img = Image.fromarray(key_image)
        w, h = img.size
        k = min(120 / w, 120 / h)
        pdf.image(img, x=pdf.l_margin, y=pdf.get_y() + 2, w=w * k, h=h * k)
        pdf.set_y(pdf.get_y() + 4 + h * k)
    pdf.set_font("helvetica", "B", 9)
    pdf.cell(0, 5, _latin(f"Model: {model.name} {model.version}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 8)
    statement = (model.training_data or "no training-data statement")[:700]
    pdf.multi_cell(0, 4, _latin(f"Trained on: {statement}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(-18)
    pdf.set_font("helvetica", "B", 10)
    pdf.set_text_color(180, 0, 0)
    pdf.cell(0, 6, f"SonoLive - {NOT_DIAGNOSTIC}", align="C")
    return bytes(pdf.output())
