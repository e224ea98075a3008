"""The painting surface: one frame, one class-index mask, brush / eraser / lasso.

The mask is a numpy array edited through models/mask_edit.py; this widget only maps mouse
positions to image pixels and draws the image with the mask over it.

Mouse: left drag paints (brush), erases (eraser) or traces a lasso that is filled on release.
Wheel: brush size. Keys: 1-9 class, B brush, E eraser, L lasso, H hide labels,
Ctrl+Z undo, Ctrl+Shift+Z / Ctrl+Y redo, [ ] brush size, P model pre-fill, Ctrl+S save.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...models.card import ClassInfo
from ...models.mask_edit import MaskHistory, fill_polygon, paint_segment

TOOLS = ("brush", "eraser", "lasso")
MIN_RADIUS, MAX_RADIUS = 1, 64


class AnnotateCanvas(QWidget):
    """Signals: ``changed()`` after every edit, undo or redo; ``toolChanged(str)``,
    ``classChanged(int)``, ``radiusChanged(int)``; ``strokes`` counts finished strokes."""

    changed = Signal()
    toolChanged = Signal(str)  # noqa: N815
    classChanged = Signal(int)  # noqa: N815
    radiusChanged = Signal(int)  # noqa: N815
    prefillRequested = Signal()  # noqa: N815 - key P
    saveRequested = Signal()  # noqa: N815 - Ctrl+S

    def __init__(self, classes: list[ClassInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.classes = classes
        self.image = np.zeros((64, 64, 3), np.uint8)
        self.mask = np.zeros((64, 64), np.uint8)
        self.history = MaskHistory(self.mask)
        self.tool = "brush"
        self.current_class = 1 if len(classes) > 1 else 0
        self.radius = 6
        self.opacity = 0.5
        self.labels_hidden = False
        self.strokes = 0
        self._last: tuple[int, int] | None = None
        self._focus_click = False
        self._held: tuple[int, int] | None = None  # a focus click's point, until it moves
        self._lasso: list[tuple[int, int]] = []
        self._qimage: QImage | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)
        self._lut = np.array(
            [c.color for c in classes] + [(255, 0, 255)] * (256 - len(classes)), np.uint8
        )

    # ---- content -----------------------------------------------------------------------------
    def set_frame(self, image: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Show ``image`` (H x W x 3 RGB) with ``mask`` (or an empty one); clears undo."""
        self.image = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
        h, w = self.image.shape[:2]
        self.mask = np.zeros((h, w), np.uint8) if mask is None else mask.astype(np.uint8).copy()
        self.history = MaskHistory(self.mask)
        self.strokes = 0
        self._qimage = QImage(self.image.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        self.update()
        self.changed.emit()

    def replace_mask(self, mask: np.ndarray) -> None:
        """Swap in a whole mask (the model's pre-fill) as one undoable step."""
        self.history.replace(mask.astype(np.uint8))
        self.update()
        self.changed.emit()

    def undo(self) -> None:
        if self.history.undo():
            self.update()
            self.changed.emit()

    def redo(self) -> None:
        if self.history.redo():
            self.update()
            self.changed.emit()

    # ---- settings ----------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        self.tool = tool
        self.toolChanged.emit(tool)

    def set_class(self, index: int) -> None:
        if 0 < index < len(self.classes):
            self.current_class = index
            self.classChanged.emit(index)

    def set_radius(self, r: int) -> None:
        self.radius = max(MIN_RADIUS, min(MAX_RADIUS, int(r)))
        self.radiusChanged.emit(self.radius)
        self.update()

    def set_opacity(self, value: float) -> None:
        self.opacity = max(0.0, min(1.0, float(value)))
        self.update()

    def set_labels_hidden(self, on: bool) -> None:
        self.labels_hidden = bool(on)
        self.update()

    # ---- geometry ----------------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the image is drawn: fitted into the widget, aspect kept, centred."""
        h, w = self.mask.shape
        s = min(self.width() / w, self.height() / h)
        dw, dh = w * s, h * s
        return QRectF((self.width() - dw) / 2, (self.height() - dh) / 2, dw, dh)

    def to_image(self, pos: QPointF) -> tuple[int, int]:
        r = self.image_rect()
        h, w = self.mask.shape
        x = int((pos.x() - r.x()) * w / r.width())
        y = int((pos.y() - r.y()) * h / r.height())
        return max(0, min(w - 1, x)), max(0, min(h - 1, y))

    def to_widget(self, x: float, y: float) -> QPointF:
        """The widget position of image pixel ``(x, y)``'s centre (tests drive the mouse here)."""
        r = self.image_rect()
        h, w = self.mask.shape
        return QPointF(r.x() + (x + 0.5) * r.width() / w, r.y() + (y + 0.5) * r.height() / h)

    # ---- events ------------------------------------------------------------------------------
    def focusInEvent(self, e: QFocusEvent) -> None:  # noqa: N802 - Qt API
        # a click that gives the canvas the focus (after typing a name) only focuses: it
        # paints nothing unless the mouse moves on into a stroke
        self._focus_click = e.reason() == Qt.FocusReason.MouseFocusReason
        super().focusInEvent(e)

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if e.button() != Qt.MouseButton.LeftButton:
            return
        p = self.to_image(e.position())
        if self._focus_click:
            self._focus_click = False
            self._held = p  # the stroke starts here if the mouse moves
            return
        self._begin(p)

    def _begin(self, p: tuple[int, int]) -> None:
        self._held = None
        self.history.checkpoint()
        if self.tool == "lasso":
            self._lasso = [p]
        else:
            self._last = p
            paint_segment(self.mask, p, p, self.radius, self._value())
        self.update()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if not e.buttons() & Qt.MouseButton.LeftButton:
            return
        p = self.to_image(e.position())
        if self._held is not None:
            if p == self._held:
                return
            self._begin(self._held)
        if self.tool == "lasso":
            if self._lasso and p != self._lasso[-1]:
                self._lasso.append(p)
        elif self._last is not None:
            paint_segment(self.mask, self._last, p, self.radius, self._value())
            self._last = p
        self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if e.button() != Qt.MouseButton.LeftButton:
            return
        if self._held is not None:  # the focus click, no stroke: nothing painted
            self._held = None
            return
        if self._last is None and not self._lasso:
            return  # no stroke of ours began with this button
        if self.tool == "lasso":
            self._lasso.append(self.to_image(e.position()))
            fill_polygon(self.mask, self._lasso, self._value())
            self._lasso = []
        self._last = None
        self.history.drop_last_if_unchanged()
        self.strokes += 1
        self.update()
        self.changed.emit()

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802 - Qt API
        steps = e.angleDelta().y() // 120
        if steps:
            self.set_radius(self.radius + steps)
        e.accept()

    def event(self, e: QEvent) -> bool:
        """The canvas's own keys win over window shortcuts (S snapshot, Ctrl+S) while it has
        the focus."""
        if e.type() == QEvent.Type.ShortcutOverride and self._owns_key(e):
            e.accept()
            return True
        return super().event(e)

    @staticmethod
    def _owns_key(e: QKeyEvent) -> bool:
        key = e.key()
        ctrl = bool(e.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ctrl:
            return key in (Qt.Key.Key_Z, Qt.Key.Key_Y, Qt.Key.Key_S)
        return Qt.Key.Key_1 <= key <= Qt.Key.Key_9 or key in (
            Qt.Key.Key_B,
            Qt.Key.Key_E,
            Qt.Key.Key_L,
            Qt.Key.Key_H,
            Qt.Key.Key_P,
            Qt.Key.Key_BracketLeft,
            Qt.Key.Key_BracketRight,
        )

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802 - Qt API
        key, mods = e.key(), e.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        if ctrl and key == Qt.Key.Key_Z:
            self.redo() if shift else self.undo()
        elif ctrl and key == Qt.Key.Key_Y:
            self.redo()
        elif ctrl and key == Qt.Key.Key_S:
            self.saveRequested.emit()
        elif key == Qt.Key.Key_P and not ctrl:
            self.prefillRequested.emit()
        elif Qt.Key.Key_1 <= key <= Qt.Key.Key_9 and not ctrl:
            self.set_class(key - Qt.Key.Key_0)
        elif key == Qt.Key.Key_B:
            self.set_tool("brush")
        elif key == Qt.Key.Key_E:
            self.set_tool("eraser")
        elif key == Qt.Key.Key_L:
            self.set_tool("lasso")
        elif key == Qt.Key.Key_H:
            self.set_labels_hidden(not self.labels_hidden)
        elif key == Qt.Key.Key_BracketLeft:
            self.set_radius(self.radius - 1)
        elif key == Qt.Key.Key_BracketRight:
            self.set_radius(self.radius + 1)
        else:
            super().keyPressEvent(e)

    def _value(self) -> int:
        return 0 if self.tool == "eraser" else self.current_class

    # ---- drawing -----------------------------------------------------------------------------
    def overlay_rgba(self) -> np.ndarray:
        """The mask in class colours, alpha = opacity where a class is painted."""
        h, w = self.mask.shape
        out = np.zeros((h, w, 4), np.uint8)
        out[..., :3] = self._lut[self.mask]
        out[..., 3] = np.where(self.mask > 0, int(round(self.opacity * 255)), 0)
        return out

    def paintEvent(self, _e) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(20, 20, 20))
        r = self.image_rect()
        if self._qimage is not None:
            p.drawImage(r, self._qimage)
        if not self.labels_hidden:
            rgba = self.overlay_rgba()
            h, w = self.mask.shape
            q = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
            p.drawImage(r, q)
        if self._lasso:
            p.setPen(QPen(QColor(255, 255, 0), 1))
            pts = [self.to_widget(x, y) for x, y in self._lasso]
            for a, b in zip(pts, pts[1:], strict=False):
                p.drawLine(a, b)
        p.end()
