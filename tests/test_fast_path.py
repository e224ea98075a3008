"""The GPU fast path, run on the CPU: device compositing, acceleration fallbacks, GPU-failure
fallback, and the thread settings. The code under test is the code CUDA runs; only the
device is the CPU (float32), and ``route="device"`` switches it on."""

from __future__ import annotations

import copy

import cv2
import numpy as np
import pytest
import torch
from sonolive.capture.bench_sources import phantom_frames as make_frames
from sonolive.capture.frame import Frame
from sonolive.inference.compile import Accel
from sonolive.inference.gpu_compose import ellipse_rects
from sonolive.inference.overlay import Overlay, OverlayStyle
from sonolive.inference.pipeline import Pipeline
from sonolive.inference.segmentation import LazySegmentation
from sonolive.inference.segmenter import Segmenter
from sonolive.inference.stats import Timings
from sonolive.models.loader import LoadedModel


@pytest.fixture(scope="module")
def wide_frames():
    """Non-square frames large enough that the names come from a subsampled label map."""
    return make_frames(3, "640x360", seed=5)[0]


def _device_segmenter(model) -> Segmenter:
    return Segmenter(model, device="cpu", dtype=torch.float32, route="device")


def _smooth_heat(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return (0.5 + 0.5 * np.sin(xx / 23.0) * np.cos(yy / 17.0)).astype(np.float32)


def _close(a: np.ndarray, b: np.ndarray, levels: int = 3) -> float:
    d = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)
    return float((d <= levels).mean())


def test_ellipse_decomposition_equals_opencv_kernel():
    for px in (1, 2, 3, 5):
        k = 2 * px + 1
        kern = np.zeros((k, k), np.uint8)
        for kh, kw in ellipse_rects(px):
            y0, x0 = (k - kh) // 2, (k - kw) // 2
            kern[y0 : y0 + kh, x0 : x0 + kw] = 1
        assert (kern == cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).all(), px


def _synthetic_labels(h: int, w: int, classes: int) -> np.ndarray:
    """Big organs of every class: discs, a rotated box and a thin diagonal stripe."""
    lab = np.zeros((h, w), np.uint8)
    rng = np.random.default_rng(1)
    for c in range(1, classes):
        cx, cy = int(rng.integers(40, w - 40)), int(rng.integers(40, h - 40))
        cv2.circle(lab, (cx, cy), int(rng.integers(20, 70)), c, -1)
    box = cv2.boxPoints(((w * 0.6, h * 0.4), (w * 0.3, h * 0.2), 33.0)).astype(np.int32)
    cv2.fillPoly(lab, [box], 1)
    cv2.line(lab, (0, h - 1), (w - 1, 0), classes - 1, 3)
    return lab


@pytest.mark.parametrize("outline_px", [1, 2, 3])
def test_compositor_matches_overlay_on_synthetic_labels(lite_model, wide_frames, outline_px):
    from sonolive.inference.gpu_compose import TorchCompositor

    card = lite_model.card
    rgb = wide_frames[1]
    h, w = rgb.shape[:2]
    labels = _synthetic_labels(h, w, card.num_classes)
    heat = _smooth_heat(h, w)
    style = OverlayStyle(outline_px=outline_px, opacity=0.6, heat_opacity=0.4, names=False)
    comp = TorchCompositor(card, style, "cpu", torch.float32)
    dc = comp.compose(
        torch.from_numpy(rgb), torch.from_numpy(labels), comp.heat_on_device(heat), style
    )
    got = dc.image.numpy()
    want = Overlay(card, style).compose(rgb, labels, heat).image
    assert (labels > 0).mean() > 0.1
    assert _close(got, want, 3) >= 0.99
    assert _close(got, want, 1) >= 0.9995  # same outline pixels, same rounding
    assert np.array_equal(dc.small_labels.numpy(), labels[::2, ::2])
    assert int(dc.centre) == labels[h // 2, w // 2]


@pytest.mark.parametrize(
    "style",
    [
        OverlayStyle(outline_px=2, opacity=0.45, heat_opacity=0.5),
        OverlayStyle(fill=False, outline_px=3, center_label_only=True, heat_opacity=0.3),
    ],
    ids=["fill-outline-names", "outline-centre-name"],
)
def test_device_compose_matches_cpu_overlay(lite_model, wide_frames, style):
    seg = _device_segmenter(lite_model)
    pipe = Pipeline(None, seg, style=style)
    h, w = wide_frames[0].shape[:2]
    heat = _smooth_heat(h, w)
    pipe.set_heat_provider(lambda f: (heat, "Kidney", 0))
    checked = 0
    for i, rgb in enumerate(wide_frames):
        r = pipe.process(Frame(rgb.copy(), 0.0, i))
        assert isinstance(r.seg, LazySegmentation), "the pipeline did not take the fast path"
        ref = Overlay(lite_model.card, style).compose(rgb, r.seg.labels, heat)
        assert r.image.shape == rgb.shape
        assert _close(r.image, ref.image, 3) >= 0.99
        assert _close(r.image, ref.image, 1) >= 0.995  # rounding as OpenCV's, not just close
        assert seg.device_route.compositor().last_anchors == ref.labels  # names at the same places
        checked += (r.seg.labels > 0).any()
    assert checked, "no organ found: the comparison did not cover fill and outlines"


def test_segment_compose_labels_equal_segment(lite_model, phantom_frames, wide_frames):
    seg = _device_segmenter(lite_model)
    plain = Segmenter(lite_model, device="cpu")  # the OpenCV path
    for i, rgb in enumerate([*phantom_frames[0][:4], wide_frames[0]]):
        s, _ = seg.segment_compose(Frame(rgb, 0.0, i), OverlayStyle())
        assert isinstance(s, LazySegmentation) and not s.labels_downloaded
        ref = seg.segment(Frame(rgb, 0.0, i))
        assert s.labels.shape == rgb.shape[:2] and s.labels.dtype == np.uint8
        assert s.labels_downloaded
        assert np.array_equal(s.labels, ref.labels)
        assert s.areas == ref.areas
        assert s.confidence == pytest.approx(ref.confidence, abs=1e-5)
        # and the CPU path (OpenCV resize, nearest upsampling) agrees but for boundary pixels
        assert (plain.segment(Frame(rgb, 0.0, i)).labels == s.labels).mean() > 0.98


def test_segment_compose_result_is_a_host_array_of_its_own(lite_model, phantom_frames):
    seg = _device_segmenter(lite_model)
    f0, f1 = phantom_frames[0][0], phantom_frames[0][6]
    fr, tm = Frame(f0, 0.0, 0), Timings()
    _, img0 = seg.segment_compose(fr, OverlayStyle(), timings=tm)
    assert isinstance(img0, np.ndarray)
    assert img0.dtype == np.uint8 and img0.shape == (*f0.shape[:2], 3)
    assert img0.flags.c_contiguous and img0.flags.owndata
    assert tm.preprocess > 0 and tm.infer > 0 and tm.compose > 0
    kept = img0.copy()
    _, img1 = seg.segment_compose(Frame(f1, 0.0, 1), OverlayStyle(opacity=0.9))
    assert not np.shares_memory(img0, img1)
    assert np.array_equal(img0, kept), "the next frame overwrote a picture already handed out"


def test_lazy_labels_fall_back_to_the_small_map_when_the_device_is_gone():
    small = np.arange(12, dtype=np.uint8).reshape(3, 4)

    class Gone:
        shape = (6, 7)

        def cpu(self):
            raise RuntimeError("CUDA error: device lost")

    s = LazySegmentation(Gone(), small, 2, {}, {})  # type: ignore[arg-type]
    lab = s.labels
    assert lab.shape == (6, 7)
    assert (lab[::2, ::2] == small[:, :4]).all()


def test_cudagraphs_on_cpu_fall_back_with_a_note(lite_model, phantom_frames):
    eager = Segmenter(lite_model, device="cpu").segment_pixels(phantom_frames[0][2]).labels
    seg = Segmenter(lite_model, device="cpu", accel="cudagraphs")
    assert seg.accel_mode == "off"
    assert "CUDA graphs" in seg.accel_note and "eagerly" in seg.accel_note
    assert seg.net is seg.eager_net
    assert np.array_equal(seg.segment_pixels(phantom_frames[0][2]).labels, eager)


def test_compile_failing_on_first_run_falls_back(lite_model, phantom_frames, monkeypatch):
    eager = Segmenter(lite_model, device="cpu").segment_pixels(phantom_frames[0][3]).labels

    def broken_compile(net, **kw):
        def run(x):
            raise RuntimeError("no C++ compiler found")

        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    seg = Segmenter(lite_model, device="cpu", accel="compile")
    assert seg.accel_mode == "off"
    assert "first run" in seg.accel_note and "no C++ compiler" in seg.accel_note
    assert np.array_equal(seg.segment_pixels(phantom_frames[0][3]).labels, eager)


class _Tiny(torch.nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.a = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.b = torch.nn.Conv2d(8, classes, 1)

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


def test_compile_gives_the_eager_masks(lite_model, phantom_frames):
    # a tiny network and dynamo's eager backend: inductor's C++ build of the full model takes
    # over a minute on two cores; this checks the machinery (trace, warm-up, compare, wrap)
    model = LoadedModel(lite_model.card, _Tiny(lite_model.card.num_classes).eval())
    rgb = phantom_frames[0][4]
    eager = Segmenter(model, device="cpu").segment_pixels(rgb).labels
    seg = Segmenter(model, device="cpu", accel=Accel("compile", backend="eager", warmup=1))
    assert seg.accel_mode in ("compile", "off")
    assert seg.accel_note
    if seg.accel_mode == "compile":
        assert seg.net is not seg.eager_net
    for _ in range(2):
        assert (seg.segment_pixels(rgb).labels == eager).mean() > 0.999


def test_acceleration_is_the_pytorch_backends_and_the_cli_offers_it(lite_model):
    """``--accel`` reaches the segmenter through make_segmenter; ONNX Runtime runs a model as
    it is, and says so instead of failing."""
    from sonolive.app.cli import build_parser
    from sonolive.inference.backends import make_segmenter

    args = build_parser().parse_args(["--accel", "cudagraphs"])
    seg = make_segmenter(lite_model, device="cpu", backend="onnx", accel=args.accel)
    assert seg.backend_name == "onnx" and seg.accel_mode == "off"
    assert "PyTorch backend" in seg.accel_note
    seg = make_segmenter(lite_model, device="cpu", backend="torch", accel=args.accel)
    assert seg.accel_mode == "off" and "CUDA graphs" in seg.accel_note


class _FailOnce(torch.nn.Module):
    """Stands in for a network on a GPU that fails once (out of memory, lost device)."""

    def __init__(self, net, error: Exception) -> None:
        super().__init__()
        self.net, self.error, self.raised = net, error, 0

    def forward(self, x):
        if not self.raised:
            self.raised += 1
            raise self.error
        return self.net(x)


def _fake_cuda_pipeline(lite_model, error):
    net = _FailOnce(copy.deepcopy(lite_model.net), error)
    model = LoadedModel(lite_model.card, net)
    # runs on the CPU, but not in float32 (like fp16 on CUDA), on the device route and with
    # a GPU failure switching it to the CPU, as on CUDA
    seg = Segmenter(model, device="cpu", dtype=torch.bfloat16, route="device", gpu_fallback=True)
    messages: list[tuple[str, str]] = []
    pipe = Pipeline(None, seg, on_status=lambda k, m: messages.append((k, m)))
    return pipe, seg, model, messages


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), "memory"),
        (RuntimeError("CUDA error: device-side assert triggered"), "stopped working"),
    ],
    ids=["oom", "device-error"],
)
def test_gpu_failure_switches_to_cpu_and_keeps_going(lite_model, phantom_frames, error, words):
    pipe, seg, model, messages = _fake_cuda_pipeline(lite_model, error)
    assert next(model.net.parameters()).dtype == torch.bfloat16
    frames = phantom_frames[0]
    r = pipe.process(Frame(frames[5], 0.0, 5))
    assert model.net.raised == 1, "the injected failure did not happen"
    cpu = pipe.segmenter
    assert cpu is not seg and isinstance(cpu, Segmenter)
    assert cpu.device.type == "cpu" and cpu.dtype == torch.float32 and not cpu.on_cuda
    assert all(p.dtype == torch.float32 for p in model.net.parameters())
    assert [m for k, m in messages if k == "warning"] and words in messages[-1][1]
    assert "CPU" in messages[-1][1]
    assert not [m for k, m in messages if k == "error"]
    # the failing frame itself was segmented on the CPU, and the following ones are too
    assert r is not None and r.seg is not None
    want = Segmenter(LoadedModel(lite_model.card, model.net.net), device="cpu")
    organs_seen = 0
    for i in (6, 7):
        r = pipe.process(Frame(frames[i], 0.0, i))
        assert r.seg is not None
        assert np.array_equal(r.seg.labels, want.segment_pixels(frames[i]).labels)
        if (r.seg.labels > 0).any():
            organs_seen += 1
            assert not np.array_equal(r.image, frames[i])
    assert organs_seen, "the CPU fallback should find organs and draw them"


def test_other_errors_do_not_switch_device(lite_model, phantom_frames):
    pipe, seg, _, messages = _fake_cuda_pipeline(lite_model, ValueError("weights are NaN"))
    r = pipe.process(Frame(phantom_frames[0][5], 0.0, 5))
    assert pipe.segmenter is seg
    assert r.seg is None and np.array_equal(r.image, phantom_frames[0][5])
    assert messages and messages[-1][0] == "error" and "weights are NaN" in messages[-1][1]


def test_cpu_threads_follow_the_settings(monkeypatch):
    from sonolive.inference.torch_device import configure_cpu_threads

    before = (torch.get_num_threads(), cv2.getNumThreads())
    try:
        monkeypatch.setenv("SONOLIVE_THREADS", "1")
        monkeypatch.delenv("SONOLIVE_CV_THREADS", raising=False)
        assert configure_cpu_threads() == 1
        assert torch.get_num_threads() == 1 and cv2.getNumThreads() == 1
        monkeypatch.delenv("SONOLIVE_THREADS")
        n = configure_cpu_threads()
        assert 1 <= n <= (torch.multiprocessing.cpu_count() or 1)
        assert torch.get_num_threads() == n
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])
