"""SonoLive: a real-time ultrasound segmentation assistant. Not for diagnostic use.

The code lives in the top-level folders ``app/``, ``capture/``, ``inference/``, ``models/``
and ``resources/``; packaging maps them to ``sonolive.app``, ``sonolive.capture`` and so on.
"""

import os

__version__ = "0.1.0"

# torch's OpenMP threads otherwise spin after every parallel region. On two cores they then
# fight the capture, ONNX Runtime and encoder threads: under load, one frame's segmentation
# took 150 ms of wall time instead of 52 ms (``bench/bench_process.py`` notes). libgomp reads
# this once, when torch loads, so it is set here, before any submodule imports torch; a value
# the user set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
