""" "Adjust ROI…": show the latest full frame with the ROI rectangle; drag it into place.

The canvas shows :attr:`RoiStage.last_full` (a half-size copy of the uncropped input) with
everything outside the ROI dimmed. Drag an edge or a corner to move it, drag inside the
rectangle to move the whole rectangle, or drag outside it to draw a new one. *OK* applies
the ROI (``RoiStage.set_roi``) and saves it for this device (QSettings ``roi/<device
key>``); *Detect again* forgets it and starts the automatic detection over.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...capture.roi import Roi
from ...capture.roi_stage import RoiStage
from ..ports import BannerPort
from ..video_view import to_qimage

GRAB_PX = 10  # how close (widget pixels) the pointer must be to grab an edge
MIN_SIZE = 16  # smallest ROI side, full-frame pixels


class RoiCanvas(QWidget):
    """The picture with a draggable ROI rectangle (all ROI values in full-frame pixels)."""

    roiChanged = Signal(object)  # (x, y, w, h)  # noqa: N815

    def __init__(self, image, frame_size: tuple[int, int], roi: Roi | None, parent=None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(480, 300)
        self.setMouseTracking(True)
        self._array = image
        self._image = to_qimage(image)
        self.frame_w, self.frame_h = int(frame_size[0]), int(frame_size[1])
        self.roi: Roi = roi or (0, 0, self.frame_w, self.frame_h)
        self._drag: str | None = None  # "move", "new" or a set of edges like "lt"
        self._start = QPointF()
        self._start_roi: Roi = self.roi

    # ---- coordinates --------------------------------------------------------------
    def picture_rect(self) -> QRectF:
        s = min(self.width() / self.frame_w, self.height() / self.frame_h)
        w, h = self.frame_w * s, self.frame_h * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def to_widget(self, x: float, y: float) -> QPointF:
        """Full-frame pixel -> widget position."""
        r = self.picture_rect()
        return QPointF(r.x() + x * r.width() / self.frame_w, r.y() + y * r.height() / self.frame_h)

    def to_frame(self, p: QPointF) -> tuple[float, float]:
        """Widget position -> full-frame pixel (clamped to the frame)."""
        r = self.picture_rect()
        x = (p.x() - r.x()) * self.frame_w / r.width()
        y = (p.y() - r.y()) * self.frame_h / r.height()
        return min(max(x, 0.0), self.frame_w), min(max(y, 0.0), self.frame_h)

    def roi_rect(self) -> QRectF:
        x, y, w, h = self.roi
        a, b = self.to_widget(x, y), self.to_widget(x + w, y + h)
        return QRectF(a, b)

    def _hit(self, p: QPointF) -> str:
        r = self.roi_rect()
        near_x = r.top() - GRAB_PX <= p.y() <= r.bottom() + GRAB_PX
        near_y = r.left() - GRAB_PX <= p.x() <= r.right() + GRAB_PX
        edges = ""
        if near_x and abs(p.x() - r.left()) <= GRAB_PX:
            edges += "l"
        elif near_x and abs(p.x() - r.right()) <= GRAB_PX:
            edges += "r"
        if near_y and abs(p.y() - r.top()) <= GRAB_PX:
            edges += "t"
        elif near_y and abs(p.y() - r.bottom()) <= GRAB_PX:
            edges += "b"
        if edges:
            return edges
        return "move" if r.contains(p) else "new"

    _CURSORS = {
        "l": Qt.CursorShape.SizeHorCursor,
        "r": Qt.CursorShape.SizeHorCursor,
        "t": Qt.CursorShape.SizeVerCursor,
        "b": Qt.CursorShape.SizeVerCursor,
        "lt": Qt.CursorShape.SizeFDiagCursor,
        "rb": Qt.CursorShape.SizeFDiagCursor,
        "rt": Qt.CursorShape.SizeBDiagCursor,
        "lb": Qt.CursorShape.SizeBDiagCursor,
        "move": Qt.CursorShape.SizeAllCursor,
        "new": Qt.CursorShape.CrossCursor,
    }

    # ---- mouse ----------------------------------------------------------------------
    def mousePressEvent(self, e) -> None:  # noqa: N802 - Qt API
        if e.button() != Qt.MouseButton.LeftButton:
            return
        p = e.position()
        self._drag = self._hit(p)
        self._start = p
        self._start_roi = self.roi
        if self._drag == "new":
            x, y = self.to_frame(p)
            self._start_roi = (int(x), int(y), 0, 0)

    def mouseMoveEvent(self, e) -> None:  # noqa: N802 - Qt API
        p = e.position()
        if self._drag is None:
            self.setCursor(self._CURSORS[self._hit(p)])
            return
        self.roi = self._dragged(p)
        self.update()

    def mouseReleaseEvent(self, e) -> None:  # noqa: N802 - Qt API
        if self._drag is None:
            return
        self.roi = self._dragged(e.position(), final=True)
        self._drag = None
        self.update()
        self.roiChanged.emit(self.roi)

    def _dragged(self, p: QPointF, final: bool = False) -> Roi:
        W, H = self.frame_w, self.frame_h
        fx, fy = self.to_frame(p)
        sx, sy = self.to_frame(self._start)
        x, y, w, h = self._start_roi
        x0, y0, x1, y1 = float(x), float(y), float(x + w), float(y + h)
        mode = self._drag or ""
        if mode == "move":
            dx = min(max(fx - sx, -x0), W - x1)
            dy = min(max(fy - sy, -y0), H - y1)
            x0, x1, y0, y1 = x0 + dx, x1 + dx, y0 + dy, y1 + dy
        elif mode == "new":
            x0, x1 = sorted((x0, fx))
            y0, y1 = sorted((y0, fy))
        else:
            if "l" in mode:
                x0 = min(fx, x1 - MIN_SIZE)
            if "r" in mode:
                x1 = max(fx, x0 + MIN_SIZE)
            if "t" in mode:
                y0 = min(fy, y1 - MIN_SIZE)
            if "b" in mode:
                y1 = max(fy, y0 + MIN_SIZE)
        if final or mode != "new":
            if x1 - x0 < MIN_SIZE:  # a click without a drag keeps a usable rectangle
                x1 = min(W, x0 + MIN_SIZE)
                x0 = x1 - MIN_SIZE
            if y1 - y0 < MIN_SIZE:
                y1 = min(H, y0 + MIN_SIZE)
                y0 = y1 - MIN_SIZE
        x0, y0 = max(0, round(x0)), max(0, round(y0))
        x1, y1 = min(W, round(x1)), min(H, round(y1))
        return (int(x0), int(y0), int(max(1, x1 - x0)), int(max(1, y1 - y0)))

    # ---- painting -------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        pic = self.picture_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(pic, self._image)
        r = self.roi_rect()
        dim = QColor(0, 0, 0, 150)
        p.fillRect(QRectF(pic.left(), pic.top(), pic.width(), r.top() - pic.top()), dim)
        p.fillRect(QRectF(pic.left(), r.bottom(), pic.width(), pic.bottom() - r.bottom()), dim)
        p.fillRect(QRectF(pic.left(), r.top(), r.left() - pic.left(), r.height()), dim)
        p.fillRect(QRectF(r.right(), r.top(), pic.right() - r.right(), r.height()), dim)
        p.setPen(QPen(QColor(255, 200, 0), 2))
        p.drawRect(r)
        p.setBrush(QColor(255, 200, 0))
        for c in (r.topLeft(), r.topRight(), r.bottomLeft(), r.bottomRight()):
            p.drawRect(QRectF(c.x() - 4, c.y() - 4, 8, 8))
        p.end()


class RoiEditor(QDialog):
    """The "Adjust ROI" dialog for one stage; ``picker.save_roi`` persists the result."""

    DETECT_AGAIN = 2  # dialog result code of "Detect again"

    def __init__(self, stage: RoiStage, picker, source, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Adjust the ultrasound image area (ROI)"))
        self.stage, self.picker, self.source = stage, picker, source
        size = stage.frame_size
        img = stage.last_full
        assert size is not None and img is not None
        self.canvas = RoiCanvas(img, size, stage.roi, self)
        self.info = QLabel()
        self.canvas.roiChanged.connect(self._show_info)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.detect_button = self.buttons.addButton(
            self.tr("Detect again"), QDialogButtonBox.ButtonRole.ResetRole
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.detect_button.clicked.connect(self.detect_again)
        hint = QLabel(
            self.tr(
                "Drag an edge or a corner to fit the rectangle to the ultrasound image; drag "
                "outside it to draw a new one. Everything outside is neither segmented nor "
                "recorded."
            )
        )
        hint.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(hint)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.info)
        lay.addWidget(self.buttons)
        self.resize(960, 640)
        self._show_info(self.canvas.roi)

    def _show_info(self, roi: Roi) -> None:
        x, y, w, h = roi
        how = self.tr("set by hand") if self.stage.user_set else self.tr("detected")
        self.info.setText(
            self.tr("ROI %1×%2 at (%3, %4), now %5")
            .replace("%1", str(w))
            .replace("%2", str(h))
            .replace("%3", str(x))
            .replace("%4", str(y))
            .replace("%5", how if self.stage.roi is not None else self.tr("full picture"))
        )

    def roi(self) -> Roi:
        return self.canvas.roi

    def accept(self) -> None:
        roi = self.canvas.roi
        self.stage.set_roi(roi)
        self.picker.save_roi(self.source, roi)
        super().accept()

    def detect_again(self) -> None:
        self.stage.reset()
        self.picker.save_roi(self.source, None)
        self.done(self.DETECT_AGAIN)


def open_roi_editor(
    picker: Any, banner: BannerPort, parent: QWidget | None = None
) -> RoiEditor | None:
    """Open the editor (modal to ``parent``, non-blocking) for the running source's ROI stage;
    the picker holds it as ``picker.roi_editor`` while it is open."""
    stage = picker.stage
    if stage is None:
        banner.show_banner(
            QCoreApplication.translate("MainWindow", "The simulated scanner needs no ROI.")
        )
        return None
    if stage.last_full is None or stage.frame_size is None:
        banner.show_banner(
            QCoreApplication.translate(
                "MainWindow", "No picture from this input yet: try again in a moment."
            )
        )
        return None
    if picker.roi_editor is not None:
        picker.roi_editor.close()
    dlg = RoiEditor(stage, picker, picker.current_source(), parent)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def closed(*_args) -> None:
        if picker.roi_editor is dlg:
            picker.roi_editor = None

    dlg.finished.connect(closed)
    picker.roi_editor = dlg
    dlg.open()
    return dlg


def roi_action(picker: Any, banner: BannerPort, parent: QWidget | None = None) -> QAction:
    """The "Adjust ROI…" action (the window places it in the main toolbar)."""
    act = QAction(QCoreApplication.translate("MainWindow", "Adjust ROI…"), picker)
    act.setObjectName("adjust-roi")
    act.setToolTip(
        QCoreApplication.translate(
            "MainWindow", "Choose the part of the scanner's picture that is segmented and recorded"
        )
    )
    act.triggered.connect(lambda _=False: open_roi_editor(picker, banner, parent))
    return act


__all__ = ["RoiCanvas", "RoiEditor", "open_roi_editor", "roi_action"]
