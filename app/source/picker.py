"""The input picker: simulated scanner, capture cards (re-enumerated in the background), a
video file or a stream URL, plus what a live capture card needs in the window.

:class:`InputPicker`, made by the window with the session, its review controller and the
ports (banner, status, display):

* fills the source combo box (``MainWindow.source_picker``) - "Simulated scanner", one
  entry per capture device (``DeviceInfo.label``; item data ``device:<VID:PID or name>``),
  "Open video file…" and "Stream URL…" - and re-enumerates the devices every few seconds on a background thread
  (enumeration can block for seconds on some drivers; it never runs in the GUI thread);
* sends recorded files to Review: "Open video file…" asks Review's one file dialog
  (``openFileRequested``) and a file's entry reopens it there, as File → Open clip does;
  only live inputs (scanner, cards, streams) play here;
* gives the pipeline its per-source ROI choice (``Pipeline.set_roi``)
  (:class:`~..capture.roi_stage.SourceRoiFilter`): every non-simulated source gets a
  :class:`~..capture.roi_stage.RoiStage`, its ROI restored from QSettings ``roi/<device
  key>`` when one was saved;
* watches each capture card's state through ``DeviceSource.on_state`` (called on capture
  threads, marshalled here by a queued signal): *lost* shows the no-signal screen with the
  reason, *live* puts the device, size, rate and pixel format (MJPG = compressed, or
  uncompressed) in the status line;
* owns the "Adjust ROI…" action (``roi_action``, :mod:`.roi_editor`; the window places it in
  the main toolbar) and the editor while it is open (``roi_editor``).

Sources set by other code (``window.set_source(...)``, the command line) get the same ROI
stage and state display: the filter looks up the current source itself, and the picker
adopts a new capture card on the pipeline's next status message.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QInputDialog, QLineEdit, QWidget

from ...capture.capture_card import LIVE, LOST, DeviceSource
from ...capture.clip import is_url
from ...capture.device_enum import DeviceInfo, list_devices
from ...capture.roi import Roi
from ...capture.roi_stage import RoiStage, SourceRoiFilter, format_roi, parse_roi
from ...capture.source import FrameSource, SeekableSource, as_seekable
from ...capture.workers import spawn
from ...inference.session import Session
from ..ports import BannerPort, DisplayPort, StatusPort
from .roi_editor import RoiEditor, roi_action

if TYPE_CHECKING:
    from ..bridge import PipelineBridge
    from ..review.controller import ReviewController

log = logging.getLogger(__name__)

PHANTOM = "phantom"
OPEN_FILE = "__open_file__"
OPEN_URL = "__open_url__"
ROI_GROUP = "roi"


def device_spec(info: DeviceInfo) -> str:
    """Item data for a device: matched by VID:PID when the OS reports one, else by name."""
    return f"device:{info.vid_pid or info.name}"


def source_key(source: object) -> str | None:
    """The key a source's ROI is saved under (``roi/<key>``), or ``None`` (not saved).

    Capture cards are keyed by VID:PID, else by the name or text they were matched by, so
    the ROI follows the card across USB ports and re-plugs; recorded files by their path.
    Other inputs are not saved.
    """
    if not isinstance(source, DeviceSource):
        clip = as_seekable(source)  # a recorded file in review: keyed by its path
        return file_key(clip.location) if clip is not None else None
    info = source.device if isinstance(source.device, DeviceInfo) else None
    m = source.match
    if info is not None and info.vid_pid:
        key = info.vid_pid
    elif isinstance(m, DeviceInfo):
        key = m.vid_pid or m.name
    else:
        key = str(m)
    key = key.strip().lower().replace("/", "_").replace("\\", "_")
    return key or None


def file_key(path: str | Path) -> str:
    """The ``roi/<key>`` of a recorded file (its absolute path, flattened)."""
    p = str(Path(path).expanduser().resolve())
    return "file_" + p.strip().lower().replace("/", "_").replace("\\", "_").replace(":", "_")


class InputPicker(QObject):
    """Owns the picker entries, the enumeration thread, the ROI filter and device states."""

    devicesFound = Signal(object)  # list[DeviceInfo], from the enumeration thread  # noqa: N815
    deviceState = Signal(object, str, str)  # DeviceSource, state, reason  # noqa: N815
    roiChanged = Signal()  # noqa: N815
    roiNotice = Signal(str)  # noqa: N815 - "no ultrasound region found…", from a capture thread
    #: "Open video file…" was chosen: the window's one file dialog (Review's) answers it
    openFileRequested = Signal()  # noqa: N815

    def __init__(
        self,
        session: Session,
        bridge: PipelineBridge,
        review: ReviewController,
        combo: QComboBox,
        settings: QSettings,
        ports: tuple[BannerPort, StatusPort, DisplayPort],
        open_input: Callable[[str | FrameSource], None],
        parent: QWidget | None = None,
        enumerate_fn: Callable[[], Iterable[DeviceInfo]] | None = None,
        interval: float = 3.0,
    ) -> None:
        """``open_input(spec or source)`` switches the input (live here, a recording in
        Review); ``parent``: the dialogs' parent, whose closing ends the enumeration."""
        super().__init__(parent)
        self._parent = parent
        self.session = session
        self.banner, self.status, self.display = ports
        self._open_input = open_input
        self.review = review
        self.combo = combo
        self.settings = settings
        self.interval = float(interval)
        self._enumerate = enumerate_fn or list_devices
        self.devices: list[DeviceInfo] = []
        self.enumerations = 0
        self._device_items: list[str] = []  # item data of the device entries, in order
        self._extra_items: list[str] = []  # files and URLs opened this session
        self._hooked: weakref.WeakSet = weakref.WeakSet()
        self._stop = threading.Event()
        self.roi_action = roi_action(self, self.banner, parent)
        self.roi_editor: RoiEditor | None = None

        # ROIs saved per device, read once here so the capture thread never touches QSettings
        self.roi_cache: dict[str, Roi] = {}
        self.settings.beginGroup(ROI_GROUP)
        try:
            for k in self.settings.childKeys():
                r = parse_roi(self.settings.value(k))
                if r is not None:
                    self.roi_cache[k] = r
        finally:
            self.settings.endGroup()

        # the pipeline's source is the one producing frames (the shown source changes first);
        # the session's ROI choice: this filter live, the region saved for a file in Review
        pipeline = session.pipeline
        self.roi_filter = SourceRoiFilter(lambda: pipeline.source, self._make_stage)
        session.set_roi(self.roi_filter, self.saved_roi_for_path)

        self._build_items()
        self.combo.activated.connect(self._picked)
        self.devicesFound.connect(self._update_devices, Qt.ConnectionType.QueuedConnection)
        self.deviceState.connect(self._on_device_state, Qt.ConnectionType.QueuedConnection)
        self.roiNotice.connect(self.show_roi_notice, Qt.ConnectionType.QueuedConnection)
        bridge.event.connect(self._on_session_event)
        if parent is not None:
            parent.installEventFilter(self)
        self.adopt(self.current_source())

        self._thread = spawn(self._enumerate_loop, name="sonolive-device-enum")

    # ------------------------------------------------------------------ entries
    def _build_items(self) -> None:
        c = self.combo
        c.blockSignals(True)
        c.clear()
        c.addItem(self.tr("Simulated scanner"), PHANTOM)
        c.addItem(self.tr("Open video file…"), OPEN_FILE)
        c.addItem(self.tr("Stream URL…"), OPEN_URL)
        c.setCurrentIndex(0 if self._is_simulated(self.current_source()) else -1)
        c.blockSignals(False)
        self._device_items = []

    def _first_action_row(self) -> int:
        return self.combo.findData(OPEN_FILE)

    @Slot(object)
    def _update_devices(self, devices: list[DeviceInfo]) -> None:
        """New enumeration result: replace the device entries, keep the current choice."""
        self.devices = list(devices)
        c = self.combo
        current = c.currentData()
        wanted = [(d.label, device_spec(d)) for d in devices]
        specs = [s for _, s in wanted]
        if isinstance(current, str) and current.startswith("device:") and current not in specs:
            # the chosen card is not (or no longer) listed under this spec: keep its entry
            # so the choice is not disturbed; the status line tells whether it is live
            wanted.append((c.itemText(c.currentIndex()), current))
        if [s for _, s in wanted] == self._device_items and all(
            c.itemText(1 + i) == label for i, (label, _) in enumerate(wanted)
        ):
            return
        c.blockSignals(True)
        for _ in self._device_items:
            c.removeItem(1)
        for i, (label, spec) in enumerate(wanted):
            c.insertItem(1 + i, label, spec)
        self._device_items = [s for _, s in wanted]
        idx = c.findData(current) if current is not None else -1
        c.setCurrentIndex(idx)
        c.blockSignals(False)

    def _enumerate_loop(self) -> None:
        last: list[DeviceInfo] | None = None
        while not self._stop.is_set():
            try:
                found = list(self._enumerate())
            except Exception as exc:  # noqa: BLE001 - list_devices never raises; be safe
                log.info("device enumeration failed: %s", exc)
                found = []
            self.enumerations += 1
            if found != last:
                last = found
                try:
                    self.devicesFound.emit(found)
                except RuntimeError:  # the window is gone
                    return
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self._parent and event.type() == QEvent.Type.Close:
            self.stop()
        return False

    # ------------------------------------------------------------------ choosing
    @Slot(int)
    def _picked(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data == OPEN_FILE:
            self._show_current()  # the entry is an action: the picker keeps showing the input
            self.openFileRequested.emit()
        elif data == OPEN_URL:
            url, ok = QInputDialog.getText(
                self._parent,
                self.tr("Stream URL"),
                self.tr("rtsp:// or http(s):// address of the stream:"),
                QLineEdit.EchoMode.Normal,
                "rtsp://",
            )
            url = url.strip()
            if ok and is_url(url) and len(url.split("://", 1)[1]) > 0:
                self.select(url)
            else:
                if ok and url:
                    self.banner.show_banner(
                        self.tr(
                            "Not a stream address: %1 (use rtsp://, http:// or https://)"
                        ).replace("%1", url)
                    )
                self._show_current()
        elif data:
            self.select(str(data))

    def select(self, spec: str) -> None:
        """Switch the window to ``spec`` ('phantom', 'device:<id>', a path or a URL).

        A recorded file (clip, DICOM cine, image folder) opens in Review, as from File → Open
        clip (``set_source`` sends it there): the source shown does not change here, and the
        entry follows once Review has opened it (:meth:`sync`)."""
        if spec.startswith("device:"):
            target = spec.split(":", 1)[1].strip()
            src = DeviceSource(target)
            self.hook(src)
            self.roi_filter.prepare(src, self._make_stage(src))
            self.display.show_no_signal(self.tr("Connecting to %1…").replace("%1", target))
            self._open_input(src)
        else:
            before = self.current_source()
            self._open_input(spec)
            if self.current_source() is before:  # it did not open; the banner says why
                self._show_current()
                return
            if spec != PHANTOM:
                self._add_file_entry(spec)
        self._show_current(spec)
        self._update_action()

    def _add_file_entry(self, spec: str) -> None:
        """An entry for an opened file, folder or stream URL (once)."""
        if self.combo.findData(spec) >= 0:
            return
        label = Path(spec).name if "://" not in spec else spec
        self.combo.blockSignals(True)
        self.combo.insertItem(self._first_action_row(), label, spec)
        self.combo.blockSignals(False)
        self._extra_items.append(spec)

    def _show_current(self, spec: str | None = None) -> None:
        """Point the combo at ``spec`` (or at the running source) without re-triggering."""
        c = self.combo
        if spec is None:
            src = self.current_source()
            if self._is_simulated(src):
                spec = PHANTOM
            elif isinstance(src, DeviceSource):
                spec = f"device:{src.match}" if not isinstance(src.match, DeviceInfo) else None
            else:
                spec = self._current_spec
        self._current_spec = spec
        idx = c.findData(spec) if spec is not None else -1
        c.blockSignals(True)
        c.setCurrentIndex(idx)
        c.blockSignals(False)

    _current_spec: str | None = None

    def sync(self) -> None:
        """Show the window's running source in the picker (called after every source change)."""
        src = self.current_source()
        self.adopt(src)
        where = src.location if isinstance(src, SeekableSource) else None
        if where is not None and not isinstance(src, DeviceSource):
            spec = str(where)
            self._add_file_entry(spec)
            self._show_current(spec)
        else:
            self._show_current()
        self._update_action()

    # ------------------------------------------------------------------ sources
    def current_source(self) -> FrameSource | None:
        """The source shown (live, or the clip in Review)."""
        return self.display.source

    @staticmethod
    def _is_simulated(src: object) -> bool:
        return isinstance(src, FrameSource) and src.simulated

    def _make_stage(self, src: object) -> RoiStage | None:
        """A fresh ROI stage for a non-simulated source (runs on any thread: no Qt)."""
        if src is None or self._is_simulated(src) or as_seekable(src) is not None:
            # simulated pictures have no chrome; recorded files play whole (ROI for those
            # is `sonolive process --roi auto`), so a short clip or a few stills are never
            # held back while a region is being detected
            return None
        key = source_key(src)
        stage = RoiStage(fixed_roi=self.roi_cache.get(key) if key else None)
        stage.on_notice = self._tell_notice
        return stage

    def show_roi_notice(self, msg: str) -> None:
        """The region is missing or uncertain (``msg``), or fine again (empty): the banner
        says so and offers Adjust ROI…."""
        if msg:
            self.banner.show_banner(msg, "roi", self.roi_action)
        else:
            self.banner.hide_banner("roi")

    def _tell_notice(self, msg: str) -> None:  # capture thread
        try:
            self.roiNotice.emit(msg)
        except RuntimeError:  # the window is gone
            pass

    @property
    def stage(self) -> RoiStage | None:
        """The ROI stage of the running source (``None`` for simulated input), or of the clip
        open in review while it is the source shown."""
        clip = self.review.source
        if clip is not None and clip is self.current_source():
            return self.review.roi_stage
        return self.roi_filter.stage

    def saved_roi_for_path(self, path: str) -> Roi | None:
        """The region saved for a recorded file (any thread: reads the cache only)."""
        return self.roi_cache.get(file_key(path))

    def adopt(self, src: object) -> None:
        """Watch ``src`` if it is a capture card not seen yet, and show it in the picker."""
        if isinstance(src, DeviceSource):
            self.hook(src)
            if not isinstance(src.match, DeviceInfo):
                spec = f"device:{src.match}"
                if self.combo.findData(spec) < 0:
                    self.combo.blockSignals(True)
                    self.combo.insertItem(1 + len(self._device_items), src.name, spec)
                    self.combo.blockSignals(False)
                    self._device_items.append(spec)
                self._show_current(spec)
        self._update_action()

    def hook(self, src: DeviceSource) -> None:
        if src in self._hooked:
            return
        self._hooked.add(src)
        ref = weakref.ref(src)

        def on_state(state: str, reason: str) -> None:  # capture thread
            s = ref()
            if s is None:
                return
            try:
                self.deviceState.emit(s, state, reason)
            except RuntimeError:  # the window is gone
                pass

        src.on_state(on_state)

    @Slot(object)
    def _on_session_event(self, _event: object) -> None:
        src = self.current_source()
        if src is not None and src not in self._hooked:
            self.adopt(src)

    @Slot(object, str, str)
    def _on_device_state(self, src: DeviceSource, state: str, reason: str) -> None:
        if src is not self.current_source() or src.state != state:
            return  # an older source, or a state already superseded
        if state == LOST:
            self.display.show_no_signal(
                self.tr("No signal: %1").replace("%1", src.name), reason or ""
            )
            self.status.set_source_text(
                self.tr("No signal: %1 — %2").replace("%1", src.name).replace("%2", reason)
            )
        elif state == LIVE:
            self.status.set_source_text(src.describe())
        else:
            self.status.set_source_text(self.tr("Connecting to %1…").replace("%1", src.name))

    # ------------------------------------------------------------------ ROI persistence
    def save_roi(self, src: object, roi: Roi | None) -> None:
        """Remember ``roi`` for ``src`` (``None`` forgets it) in QSettings ``roi/<key>``."""
        if roi is not None:
            self.banner.hide_banner("roi")  # the person has set the region
        key = source_key(src)
        if key is None:
            return
        if roi is None:
            self.roi_cache.pop(key, None)
            self.settings.remove(f"{ROI_GROUP}/{key}")
        else:
            self.roi_cache[key] = tuple(int(v) for v in roi)  # type: ignore[assignment]
            self.settings.setValue(f"{ROI_GROUP}/{key}", format_roi(roi))
        self.settings.sync()
        self.roiChanged.emit()

    def _update_action(self) -> None:
        src = self.current_source()
        self.roi_action.setEnabled(self.stage is not None or self._make_stage(src) is not None)


__all__ = ["InputPicker", "device_spec", "source_key"]
