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
