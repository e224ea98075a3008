"""Shared fixtures: offscreen Qt, isolated settings and user folders, the shipped model."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SONOLIVE_THREADS", "2")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Each test gets an empty user models folder unless it sets its own."""
    monkeypatch.setenv("SONOLIVE_USER_MODELS", str(tmp_path_factory.mktemp("user-models")))


@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(scope="session")
def lite_model():
    from sonolive.models.loader import load_model
    from sonolive.models.registry import find_model

    return load_model(find_model("fast-lite"))


@pytest.fixture(scope="session")
def phantom_frames():
    """A few consecutive 256x256 phantom frames with their true masks."""
    from sonolive.capture.bench_sources import phantom_frames as make

    return make(12, 256, seed=3)


@pytest.fixture(autouse=True, scope="session")
def _no_worker_inside_torch_at_exit():
    """Let the workers that tests stopped (CAM maps, model loads, inference) finish before
    the interpreter shuts down: a daemon thread still inside torch then aborts pytest (134)."""
    from sonolive.app.shutdown import join_workers, running_idents

    host = running_idents()
    yield
    left = join_workers(deadline_s=30.0, exclude=host)
    if left:
        print("\nthreads still running at exit:", ", ".join(t.name for t in left))
