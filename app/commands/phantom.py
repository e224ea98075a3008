"""``sonolive phantom export|gallery``: simulated clips and masks to disk (see capture/phantom_export)."""

from __future__ import annotations

from ...capture.phantom_export import register, run

__all__ = ["register", "run"]
