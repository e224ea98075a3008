"""The live path: a capture thread and an inference thread joined by a latest-wins slot.

    source.read() ─▶ ROI ─▶ prepare ─▶ [LatestSlot] ─▶ segment ─▶ gate ─▶ compose ─▶ publish
      capture thread (chain.enter)      drops old     inference thread (the chain's rest)
    publish: sinks ─▶ [LatestSlot] ─▶ view (GUI thread); drops old

The stages are the one :class:`~.chain.StageChain` (``inference/chain.py``); this module
only runs them on the live threads (and lends them to Review and ``process``).

Neither hand-over queues: when the network is slower than the source, the frame waiting in
the slot is replaced and counted as dropped. The view side is notified only when the output
slot goes from empty to full, so the GUI event queue holds at most one pending frame.

Review (:class:`~.player.ClipPlayer`) processes with :meth:`Pipeline.process` on its own
worker and hands its frames over through the same :meth:`Pipeline.publish`, so the view,
the sinks (the recorder), the drop count and the latency figures are one path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..capture.frame import Frame
from ..capture.slot import LatestSlot
from ..capture.source import EndOfStream, FrameSource, SourceError
from ..capture.workers import spawn
from .chain import ChainSettings, HeatFn, Job, Result, RoiFn, StageChain
from .events import Problem, SessionEvent, SourceState, SourceStatus, Topic
from .gate.marks import ENGLISH, GateWords
from .gate.ood import OodGate
from .overlay import Overlay, OverlayStyle
from .segmenter import Segmenter
from .stats import LatencyStats
from .temporal import TemporalFilter

StatusCallback = Callable[[str, str], None]  # (kind, plain-words message)
EventCallback = Callable[[SessionEvent], None]  # the same, typed (see events.py)


class Pipeline:
    """The live path's threads around the one :class:`~.chain.StageChain`; Review's player
    and ``process`` run the same chain through :meth:`process`, :meth:`enter`,
    :meth:`segment_ahead` and :meth:`compose_segmented`.

    Its settings are constructor arguments or set through its methods (``set_roi``,
    ``set_heat_provider``, ``add_sink``, ``set_listeners``, ``set_show_ood``,
    ``set_gate_words``, ``set_temporal``, ``set_style``, ``set_segmenter``); nothing outside
    ``inference/`` assigns to its attributes.
    """

    def __init__(
        self,
        source: FrameSource | None,
        segmenter: Segmenter | None,
        style: OverlayStyle | None = None,
        on_status: StatusCallback | None = None,
        on_result: Callable[[], None] | None = None,
        keep_all_stats: bool = False,
        *,
        roi: RoiFn | None = None,
        show_ood: bool = False,
        gate_words: GateWords = ENGLISH,
        temporal: bool = False,
    ) -> None:
        self.source = source
        self._settings = ChainSettings(
            segmenter=segmenter,
            overlay=Overlay(segmenter.card, style or OverlayStyle()) if segmenter else None,
            style=style or OverlayStyle(),
            show_ood=show_ood,
            gate_words=gate_words,
            temporal=TemporalFilter() if temporal else None,
        )
        #: ROI → prepare → segment → gate → compose: the one chain, built here
        self.chain = StageChain(self._settings, self._inference_failed)
        self._on_status: StatusCallback = on_status or (lambda kind, msg: None)
        self._on_result: Callable[[], None] = on_result or (lambda: None)  # "a result waits"
        self._on_event: EventCallback | None = None
        self.frames_in: LatestSlot[Job] = LatestSlot()
        self.results: LatestSlot[Result] = LatestSlot()
        self.stats = LatencyStats(keep_all=keep_all_stats)
        #: review frames decoded but not shown because processing fell behind the clip's
        #: timing (the live path's drops are counted by its slots)
        self.skipped = 0
        self._sinks: list[Callable[[Result], None]] = []  # recorder, CAM feeder, ...
        #: the live source's ROI choice, run on the capture thread (None: whole frames)
        self._roi: RoiFn | None = roi
        self._infer_lock = threading.Lock()  # one thread at a time uses the segmenter
        self._ctl = threading.RLock()  # guards starting and ending runs
        self._shutdown = threading.Event()
        self._infer_thread: threading.Thread | None = None
        self._run: tuple[threading.Event, threading.Thread] | None = None
        self.last_error: str | None = None
        #: frames the inference thread has finished with (published, failed or held back):
        #: a finite source is drained when this catches up with the frames it gave
        self.jobs_done = 0
        self._source_gen = 0  # counts input switches (set_source)

    # ---- settings (read-only from outside; set through the methods below) -------------
    @property
    def segmenter(self) -> Segmenter | None:
        return self._settings.segmenter

    @property
    def overlay(self) -> Overlay | None:
        return self._settings.overlay

    @property
    def style(self) -> OverlayStyle:
        return self._settings.style

    @property
    def ood_gate(self) -> OodGate:
        """Hides the overlay on pictures unlike the training data (0.5 s hold while frames
        flow)."""
        return self._settings.gate

    @property
    def show_ood(self) -> bool:
        """ "Show anyway": off by default, reset on a source or model change."""
        return self._settings.show_ood

    @property
    def gate_words(self) -> GateWords:
        """The words of the gate's lines on the picture (the app sets its translation)."""
        return self._settings.gate_words

    @property
    def temporal(self) -> TemporalFilter | None:
        """Smooths the overlay over frames (Bedside's default); None: each frame on its own."""
        return self._settings.temporal

    @property
    def heat_provider(self) -> HeatFn | None:
        return self._settings.heat

    @property
    def roi(self) -> RoiFn | None:
        return self._roi

    @property
    def sinks(self) -> tuple[Callable[[Result], None], ...]:
        """What every published frame is handed to before the view (the recorder, CAM)."""
        return tuple(self._sinks)

    def set_listeners(
        self,
        on_result: Callable[[], None] | None = None,
        on_status: StatusCallback | None = None,
        on_event: EventCallback | None = None,
    ) -> None:
        """Who hears "a result is waiting" and the status: as ``(kind, message)``
        (``on_status``: batch, bench) or as typed events with a topic (``on_event``: the
        session)."""
        if on_result is not None:
            self._on_result = on_result
        if on_status is not None:
            self._on_status = on_status
        if on_event is not None:
            self._on_event = on_event

    def set_roi(self, roi: RoiFn | None) -> None:
        """The live source's ROI choice (run on the capture thread; None: whole frames)."""
        self._roi = roi

    def set_heat_provider(self, heat: HeatFn | None) -> None:
        self._settings.heat = heat

    def add_sink(self, sink: Callable[[Result], None]) -> None:
        if sink not in self._sinks:
            self._sinks.append(sink)

    def remove_sink(self, sink: Callable[[Result], None]) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)

    def set_show_ood(self, on: bool) -> None:
        """Draw the overlay on pictures unlike the training data too (with its mark)."""
        self._settings.show_ood = bool(on)

    def set_gate_words(self, words: GateWords) -> None:
        self._settings.gate_words = words

    # ---- figures -------------------------------------------------------------
    @property
    def dropped(self) -> int:
        return self.frames_in.dropped + self.results.dropped + self.skipped

    @property
    def running(self) -> bool:
        """True while a live capture run is active (review and batch call process() instead)."""
        return self._run is not None

    @property
    def _threads(self) -> list[threading.Thread]:
        return [t for t in ((self._run[1] if self._run else None), self._infer_thread) if t]

    # ---- control ---------------------------------------------------------------
    def start(self) -> None:
        """Start the inference thread (once) and a capture run for the current source."""
        with self._ctl:
            if self._infer_thread is None or not self._infer_thread.is_alive():
                self._shutdown.clear()
                self.frames_in.reopen()
                self._infer_thread = spawn(self._infer_loop, name="sonolive-infer")
            if self._run is None and self.source is not None:
                self._start_capture(self.source)

    def _start_capture(self, src: FrameSource) -> None:
        stop = threading.Event()
        t = spawn(self._capture_loop, name="sonolive-capture", args=(src, stop), start=False)
        self._run = (stop, t)
        t.start()

    def _end_capture(self) -> None:
        """Ask the capture run to end without waiting for it: a source stuck in read() or
        open() must not hold up the caller (often the GUI thread). The capture thread closes
        its own source when it leaves, and never hands over a frame after being asked to stop."""
        if self._run is not None:
            self._run[0].set()
            self._run = None

    def stop(self, timeout: float = 1.0) -> None:
        """Shut everything down (window close); waits at most ``timeout`` per thread."""
        with self._ctl:
            run = self._run
            self._end_capture()
            self._shutdown.set()
            self.frames_in.close()
            threads = [t for t in (run[1] if run else None, self._infer_thread) if t]
            self._infer_thread = None
        for t in threads:
            t.join(timeout)

    def set_segmenter(self, segmenter: Segmenter | None) -> None:
        """Swap the model without stopping the threads (None: show frames without overlay)."""
        overlay = Overlay(segmenter.card) if segmenter else None  # finds fonts: not under the lock
        st = self._settings
        with st.lock:
            if overlay is not None:
                overlay.style = st.style  # the style now, not as it was before the build
            st.segmenter = segmenter
            st.overlay = overlay
            self.reset_ood()

    def reset_ood(self) -> None:
        """A new source or model: the gate starts afresh and "Show anyway" is off again; the
        temporal filter forgets the old picture."""
        self._settings.gate.reset()
        self._settings.show_ood = False
        t = self._settings.temporal
        if t is not None:
            t.reset()

    def set_temporal(self, on: bool) -> None:
        """Turn the temporal filter on (a fresh one) or off; takes effect on the next frame."""
        st = self._settings
        if on and st.temporal is None:
            st.temporal = TemporalFilter()
        elif not on:
            st.temporal = None

    def set_source(self, source: FrameSource | None) -> None:
        """Switch input without blocking: the old run ends in the background."""
        with self._ctl:
            live = self._run is not None
            self._end_capture()
            self.source = source
            self._source_gen += 1  # a frame of the old input still in flight is not shown
            self.frames_in.clear()
            self.results.clear()
            self.reset_ood()
            if live and source is not None:
                self._start_capture(source)

    def redo(self, frame: Frame) -> None:
        """Compose ``frame`` again on the inference thread, for a setting changed while no new
        frame comes (the end of a clip, a frozen source); latest wins as ever."""
        self.frames_in.put(Job.enter(frame, smooth=True))

    def set_style(self, style: OverlayStyle) -> None:
        st = self._settings
        with st.lock:
            st.style = style
            if st.overlay is not None:
                st.overlay.style = style

    # ---- threads -----------------------------------------------------------------
    def _capture_loop(self, src: FrameSource, stop: threading.Event) -> None:
        try:
            self._capture(src, stop)
        finally:
            try:
                src.close()
            except Exception:  # noqa: BLE001 - closing must never take the app down
                pass

    def _capture(self, src: FrameSource, stop: threading.Event) -> None:
        try:
            src.open()
        except SourceError as e:
            self._status("error", str(e))
            return
        except Exception as e:  # noqa: BLE001
            self._status("error", f"The input could not be opened: {e}")
            return
        if stop.is_set():
            return
        self._status("live", src.describe())
        lost = False
        while not stop.is_set():
            try:
                frame = src.read()
                job = self.chain.enter(frame, self._roi, smooth=True)  # ROI, prepare
            except EndOfStream:
                self._status("end", src.describe())
                break
            except SourceError as e:
                if not lost and not stop.is_set():
                    self.frames_in.clear()  # never show a frame from before the outage
                    self.results.clear()
                    self._status("lost", str(e))
                lost = True
                time.sleep(0.05)
                continue
            except Exception as e:  # noqa: BLE001 - a broken source must not kill the app
                self._status("error", f"The source failed: {e}")
                time.sleep(0.2)
                continue
            if stop.is_set():
                break  # switched away while this frame was being read: drop it
            if lost:
                lost = False
                self._status("live", src.describe())
            if job is None:
                continue  # held back by the ROI (still detecting)
            self.frames_in.put(job)

    def enter(self, frame: Frame, roi: RoiFn | None = None, smooth: bool = False) -> Job | None:
        """The chain's first stages (ROI, prepare) for a frame read outside the live run (a
        batch reader thread); None when the ROI holds it back."""
        return self.chain.enter(frame, roi, decide_now=True, smooth=smooth)

    def _infer_loop(self) -> None:
        while not self._shutdown.is_set():
            gen = self._source_gen
            job = self.frames_in.take(timeout=0.1)
            if job is None:
                continue
            try:
                result = self._run_job(job)
                if result is not None and gen == self._source_gen:
                    self.publish(result)  # else the input was switched meanwhile
            except Exception as e:  # noqa: BLE001 - the loop must outlive any one frame
                self._status("error", f"A frame could not be processed: {e}", Topic.MODEL)
            finally:
                self.jobs_done += 1

    def publish(self, result: Result) -> None:
        """Hand a finished frame to the view: the sinks (the recorder, …) first, then
        the latest-wins output slot, with ``on_result`` when the slot goes from empty to
        full. The live inference thread and the review player both publish here; while a
        live run is on, it owns the view and the recorder, and a review frame is dropped."""
        if result.origin == "review" and self.running:
            return
        self._run_frame_hooks(result)
        if not self.results.put(result):
            self._on_result()

    def _run_frame_hooks(self, result: Result) -> None:
        """A failing hook is reported in plain words and never stops the frames."""
        for hook in list(self._sinks):
            try:
                hook(result)
            except Exception as e:  # noqa: BLE001
                self._status("error", f"{getattr(hook, '__name__', 'hook')}: {e}", Topic.OUTPUT)

    def process(
        self,
        frame: Frame,
        decide_now: bool = False,
        smooth: bool = False,
        roi: RoiFn | None = None,
    ) -> Result | None:
        """Run one frame through the whole chain (review, batch export, tests); ``roi`` is
        the source's ROI choice (None: the frame as it is). None when the ROI holds it back.

        ``decide_now``: this frame alone decides whether it is like the training data (a
        paused or stepped review frame, an exported frame), instead of the 0.5 s hold that
        keeps a flowing picture from blinking. ``smooth``: the frame follows the previous one
        (the live loop, a batch run in order), so the temporal filter, when on, applies;
        review's random access leaves it off.

        Serialised: the live inference thread and a review worker never share the segmenter
        at the same moment.
        """
        job = self.chain.enter(frame, roi, decide_now=decide_now, smooth=smooth)
        return None if job is None else self._run_job(job)

    def _run_job(self, job: Job) -> Result:
        with self._infer_lock:
            return self._result(self.chain.finish(self.chain.segment(job)))

    def segment_ahead(self, job: Job) -> Job:
        """The chain's segment stage alone: a batch job infers frame n+1 while another
        thread composes frame n with :meth:`compose_segmented`."""
        with self._infer_lock:
            return self.chain.segment(job)

    def compose_segmented(self, job: Job) -> Result:
        """The chain's gate and compose stages for a :meth:`segment_ahead` job."""
        return self._result(self.chain.finish(job))

    @staticmethod
    def _result(job: Job) -> Result:
        seg_model = job.seg_model
        image = job.image if job.image is not None else job.frame.pixels
        return Result(
            frame=job.frame,
            image=image,
            seg=job.seg,
            model_name=seg_model.card.name if seg_model else "",
            cam_class=job.cam_class,
            cam_age=job.cam_age,
            t_composed=job.t_composed,
            ood_hidden=job.hidden,
            ood_shown_anyway=job.anyway,
            timings=job.timings,
        )

    def _inference_failed(self, seg_model: Segmenter, e: Exception) -> Segmenter | None:
        """Turn an inference error into a message; on a GPU failure (out of memory, a
        device-side error, a lost device) switch to a float32 CPU segmenter and return it."""
        from .segmenter import cpu_fallback
        from .torch_device import gpu_failure_kind

        msg = str(e)
        kind = gpu_failure_kind(e) if seg_model.falls_back_to_cpu else None
        if kind is not None:
            if self.segmenter is not seg_model:
                return None  # the model was changed meanwhile; nothing to replace
            try:
                cpu = cpu_fallback(seg_model)
                self.set_segmenter(cpu)
                self.last_error = None
                self._status(
                    "warning",
                    "The GPU ran out of memory; segmentation continues on the CPU."
                    if kind == "oom"
                    else "The GPU stopped working; segmentation continues on the CPU.",
                    Topic.MODEL,
                )
                return cpu
            except Exception as e2:  # noqa: BLE001
                msg = f"{msg}; CPU fallback failed too: {e2}"
        if self.last_error != msg:
            self.last_error = msg
            self._status(
                "error",
                f"Segmentation failed, showing the picture without overlay: {msg}",
                Topic.MODEL,
            )
        return None

    def _status(self, kind: str, msg: str, topic: Topic = Topic.SOURCE) -> None:
        """Tell the listeners: "live", "lost" and "end" are the source's state; "error" and
        "warning" are problems of ``topic``."""
        try:
            self._on_status(kind, msg)
        except Exception:  # noqa: BLE001
            pass
        listener = self._on_event
        if listener is None:
            return
        event: SessionEvent
        if kind in ("live", "lost", "end"):
            event = SourceState(SourceStatus(kind), msg)
        else:
            event = Problem(topic, msg, warning=kind == "warning")
        try:
            listener(event)
        except Exception:  # noqa: BLE001
            pass
