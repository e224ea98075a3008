"""The video view: draws the newest composed frame, scaled to fit with its aspect ratio kept."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


def to_qimage(rgb: np.ndarray) -> QImage:
    """Wrap an RGB uint8 array (no copy; the caller keeps the array alive)."""
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)


class VideoView(QWidget):
    """Shows one RGB picture; paints a 'No signal' screen and the permanent marks on top."""

    clicked = Signal(float, float)  # position in picture coordinates (0..1)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._array: np.ndarray | None = None
        self._image: QImage | None = None
        self.no_signal: str | None = None  # text of the no-signal screen, None when live
        self.marks: list[str] = []  # corner marks, e.g. "Not for diagnostic use"
        self.frames_shown = 0

    def set_frame(self, rgb: np.ndarray) -> None:
        self._array = np.ascontiguousarray(rgb)
        self._image = to_qimage(self._array)
        self.no_signal = None
        self.frames_shown += 1
        self.update()

    def show_no_signal(self, text: str) -> None:
        self.no_signal = text
        self._array = None
        self._image = None
        self.update()

    def current_array(self) -> np.ndarray | None:
        return self._array

    def picture_rect(self) -> QRect:
        """Where the picture is drawn inside the widget (aspect ratio kept, centred)."""
        if self._image is None:
            return QRect()
        iw, ih = self._image.width(), self._image.height()
        s = min(self.width() / iw, self.height() / ih)
        w, h = int(iw * s), int(ih * s)
        return QRect((self.width() - w) // 2, (self.height() - h) // 2, w, h)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        if self._image is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(self.picture_rect(), self._image)
        elif self.no_signal:
            f = QFont(self.font())
            f.setPointSizeF(max(14.0, self.height() / 22))
            f.setBold(True)
            p.setFont(f)
            p.setPen(QColor(255, 200, 0))
            p.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.no_signal
            )
        self._paint_marks(p)
        p.end()

    def _paint_marks(self, p: QPainter) -> None:
        if not self.marks:
            return
        f = QFont(self.font())
        f.setPointSizeF(max(9.0, self.height() / 60))
        f.setBold(True)
        p.setFont(f)
        fm = p.fontMetrics()
        y = self.height() - 8
        for text in reversed(self.marks):
            w = fm.horizontalAdvance(text) + 12
            r = QRectF(self.width() - w - 8, y - fm.height() - 4, w, fm.height() + 4)
            p.fillRect(r, QColor(0, 0, 0, 170))
            p.setPen(QPen(QColor(255, 90, 90)))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
            y -= fm.height() + 8

    def mousePressEvent(self, e) -> None:  # noqa: N802 - Qt API
        r = self.picture_rect()
        if r.isValid() and r.contains(e.position().toPoint()):
            self.clicked.emit(
                (e.position().x() - r.x()) / r.width(), (e.position().y() - r.y()) / r.height()
            )
        super().mousePressEvent(e)
