"""SonoLive: a real-time ultrasound segmentation assistant. Not for diagnostic use.

The code lives in the top-level folders ``app/``, ``capture/``, ``inference/``, ``models/``
and ``resources/``; packaging maps them to ``sonolive.app``, ``sonolive.capture`` and so on.
"""

__version__ = "0.1.0"
