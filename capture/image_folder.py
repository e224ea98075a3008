"""A folder of still images played as a slow, seekable clip (review of stills, e.g. a
labelled data folder with ``images/*.png``)."""

from __future__ import annotations

from pathlib import Path

import cv2

from .clip import Pacer, PlaybackControls
from .frame import Frame
from .source import EndOfStream, FrameSource, SourceError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def image_files(folder: Path) -> list[Path]:
    """The images in ``folder`` (or in its ``images/`` sub-folder), sorted by name."""
    if (folder / "images").is_dir():
        folder = folder / "images"
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


class ImageFolderSource(PlaybackControls, FrameSource):
    """Each image is one frame, shown ``fps`` times per second (1 by default)."""

    seekable = True
    #: independent stills: there is no motion to find an ultrasound region by, so ROI
    #: detection leaves them whole (each is taken as the image it shows)
    stills = True

    def __init__(
        self, folder: str | Path, fps: float = 1.0, paced: bool = True, loop: bool = False
    ):
        self.folder = Path(folder)
        self.name = self.folder.name
        self.paced = paced
        self.loop = loop
        self._fps = float(fps)
        self._pacer = Pacer()
        self._files: list[Path] = []
        self._next_index = 0

    @property
    def fps(self) -> float:  # type: ignore[override]
        return self._fps

    @fps.setter
    def fps(self, value: float) -> None:
        self._fps = float(value)

    @property
    def frame_count(self) -> int:
        return len(self._files)

    @property
    def duration(self) -> float:
        return self.frame_count / self._fps

    def frame_time(self, index: int) -> float:
        return index / self._fps

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"Folder not found: {self.folder}")
        self._files = image_files(self.folder)
        if not self._files:
            raise SourceError(f"{self.folder.name} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        self._next_index = 0
        self._pacer.reset()

    def _load(self, index: int) -> Frame:
        path = self._files[index]
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise SourceError(f"{path.name} is not a readable image")
        return Frame(
            pixels=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB),
            timestamp=self.frame_time(index),
            index=index,
            source=path.name,
        )

    def read(self) -> Frame:
        if not self._files:
            self.open()
        if self._next_index >= len(self._files):
            if not self.loop:
                raise EndOfStream
            self._next_index = 0
            self._pacer.reset()
        if self.paced:
            self._pacer.wait(self.frame_time(self._next_index))
        frame = self._load(self._next_index)
        self._next_index += 1
        return frame

    def seek(self, index: int) -> Frame:
        if not self._files:
            self.open()
        index = max(0, min(int(index), len(self._files) - 1))
        frame = self._load(index)
        self._next_index = index + 1
        self._pacer.reset()
        return frame

    def close(self) -> None:
        self._files = []

    def describe(self) -> str:
        return f"{self.name} ({self.frame_count} images)"
