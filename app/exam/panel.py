"""The eFAST exam panel's widgets (a dock in Bedside and Teaching); the logic is in
:mod:`.exam_control`, the exam itself in ``inference/exam/checklist.py``."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...inference.exam.checklist import FINDINGS, VIEWS


def _tr(text: str) -> str:
    return QCoreApplication.translate("Exam", text)


def view_labels() -> dict[str, str]:
    """The views' names in the window's language."""
    return {
        "ruq": _tr("RUQ"),
        "luq": _tr("LUQ"),
        "pelvis_transverse": _tr("Pelvis transverse"),
        "pelvis_sagittal": _tr("Pelvis sagittal"),
        "subxiphoid": _tr("Subxiphoid"),
        "lung_left": _tr("Left lung"),
        "lung_right": _tr("Right lung"),
    }


def finding_labels() -> dict[str, str]:
    return {
        "fluid": _tr("Fluid"),
        "no_fluid": _tr("No fluid"),
        "indeterminate": _tr("Indeterminate"),
        "sliding_present": _tr("Sliding present"),
        "sliding_absent": _tr("Sliding absent"),
    }


BIG = "QPushButton{min-height:40px;font-size:15px;padding:2px 6px}"
SUGGESTED = "QPushButton{min-height:40px;font-size:15px;border:3px solid #2a7fff}"
DONE = "QPushButton{min-height:40px;font-size:15px;background:#1f6b3a;color:white}"
MISSING = "QPushButton{min-height:40px;font-size:15px;border:2px solid #e07000}"


class ExamPanel(QWidget):
    """Big view buttons, the suggestion with its one-key confirm, the findings of the view
    just recorded, the timer and progress, the identity and the Send button."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("exam-panel")
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.new_button = QPushButton(_tr("New exam"))
        self.timer_label = QLabel("00:00")
        self.timer_label.setStyleSheet("QLabel{font-size:18px;font-weight:bold}")
        self.progress_label = QLabel()
        self.progress_label.setStyleSheet("QLabel{font-size:15px}")
        top.addWidget(self.new_button)
        top.addWidget(self.timer_label)
        top.addWidget(self.progress_label, 1)
        lay.addLayout(top)

        sug = QHBoxLayout()
        self.suggestion_label = QLabel()
        self.suggestion_label.setWordWrap(True)
        self.confirm_button = QPushButton(_tr("Confirm (Enter)"))
        self.confirm_button.setStyleSheet(BIG)
        self.confirm_button.setEnabled(False)
        sug.addWidget(self.suggestion_label, 1)
        sug.addWidget(self.confirm_button)
        lay.addLayout(sug)

        grid = QGridLayout()
        self.view_buttons: dict[str, QPushButton] = {}
        for i, (key, label) in enumerate(view_labels().items()):
            b = QPushButton(label)
            b.setObjectName(f"exam-view-{key}")
            b.setToolTip(_tr("Record this view now (the last seconds and this frame)"))
            grid.addWidget(b, i // 2, i % 2)
            self.view_buttons[key] = b
        lay.addLayout(grid)

        self.finding_box = QGroupBox()
        fl = QHBoxLayout(self.finding_box)
        self.finding_group = QButtonGroup(self)
        self.finding_buttons: dict[str, QPushButton] = {}
        labels = finding_labels()
        for kind in FINDINGS.values():
            for code, _ in kind:
                b = QPushButton(labels[code])
                b.setCheckable(True)
                b.setStyleSheet(BIG)
                b.setObjectName(f"exam-finding-{code}")
                self.finding_group.addButton(b)
                fl.addWidget(b)
                self.finding_buttons[code] = b
        lay.addWidget(self.finding_box)

        who = QGroupBox(_tr("Patient"))
        form = QFormLayout(who)
        self.deidentified = QCheckBox(_tr("De-identified (teaching): no identity, ROI only"))
        form.addRow(self.deidentified)
        self.patient_name = QLineEdit()
        self.patient_name.setPlaceholderText(_tr("Family^Given"))
        self.patient_id = QLineEdit()
        self.accession = QLineEdit()
        form.addRow(_tr("Name"), self.patient_name)
        form.addRow(_tr("Patient ID"), self.patient_id)
        form.addRow(_tr("Accession"), self.accession)
        wl = QHBoxLayout()
        self.worklist_button = QPushButton(_tr("Worklist"))
        self.worklist_box = QComboBox()
        self.worklist_box.setEnabled(False)
        wl.addWidget(self.worklist_button)
        wl.addWidget(self.worklist_box, 1)
        form.addRow(wl)
        lay.addWidget(who)

        bottom = QHBoxLayout()
        self.send_button = QPushButton(_tr("Finish and send"))
        self.send_button.setStyleSheet(BIG)
        self.settings_button = QPushButton(_tr("PACS settings…"))
        bottom.addWidget(self.send_button, 1)
        bottom.addWidget(self.settings_button)
        lay.addLayout(bottom)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.status)
        lay.addStretch(1)

    def show_views(
        self, done: list[str], current: str | None, suggested: str | None = None
    ) -> None:
        """Done views green, missing ones outlined (the suggested one in blue); the findings
        of ``current`` below."""
        for key, b in self.view_buttons.items():
            b.setStyleSheet(DONE if key in done else SUGGESTED if key == suggested else MISSING)
        self.progress_label.setText(
            _tr("Views done %1/%2").replace("%1", str(len(done))).replace("%2", str(len(VIEWS)))
        )
        kind = next((v.kind for v in VIEWS if v.key == current), None)
        self.finding_box.setVisible(kind is not None)
        if kind is not None:
            self.finding_box.setTitle(_tr("Finding: %1").replace("%1", view_labels()[current]))
            codes = {c for c, _ in FINDINGS[kind]}
            for code, b in self.finding_buttons.items():
                b.setVisible(code in codes)

    def show_finding(self, finding: str | None) -> None:
        self.finding_group.setExclusive(False)
        for code, b in self.finding_buttons.items():
            b.setChecked(code == finding)
        self.finding_group.setExclusive(True)
