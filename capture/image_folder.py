"""A folder of still images played as a slow, seekable clip (review of stills, e.g. a
labelled data folder with ``images/*.png``)."""

from __future__ import annotations

from pathlib import Path

import cv2
from PIL import Image, UnidentifiedImageError

from .frame import Frame
from .frame_size import MAX_FRAME_PIXELS, check_frame_size, letterbox
from .source import EndOfStream, SeekableSource, SourceError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def image_files(folder: Path) -> list[Path]:
    """The images in ``folder`` (or in its ``images/`` sub-folder), sorted by name."""
    if (folder / "images").is_dir():
        folder = folder / "images"
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


class ImageFolderSource(SeekableSource):
    """Each image is one frame, shown ``fps`` times per second (1 by default).

    Every frame has the first image's size: an image of another size is letterboxed into it
    (scaled to fit, aspect kept, never cropped). An image whose header announces more than
    ``MAX_FRAME_PIXELS`` is refused before it is decoded.
    """

    #: independent stills: there is no motion to find an ultrasound region by, so ROI
    #: detection leaves them whole (each is taken as the image it shows)
    stills = True

    def __init__(
        self, folder: str | Path, fps: float = 1.0, paced: bool = True, loop: bool = False
    ):
        super().__init__(paced=paced, loop=loop, fps=fps)
        self.folder = Path(folder)
        self.name = self.folder.name
        self._files: list[Path] = []
        self._size: tuple[int, int] | None = None

    @property
    def fps(self) -> float:
        return self._fps

    @fps.setter
    def fps(self, value: float) -> None:
        self._fps = float(value)

    @property
    def frame_count(self) -> int:
        return len(self._files)

    @property
    def location(self) -> str:
        return str(self.folder)

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"Folder not found: {self.folder}")
        self._files = image_files(self.folder)
        if not self._files:
            raise SourceError(f"{self.folder.name} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        self._next_index = 0
        self._pacer.reset()
        self._size = None
        self._size = self._load(0).pixels.shape[1::-1]  # (width, height) of every frame

    def _load(self, index: int) -> Frame:
        path = self._files[index]
        try:
            with Image.open(path) as im:  # reads the header only
                width, height = im.size
                check_frame_size(width, height, path.name)
        except Image.DecompressionBombError:
            raise SourceError(
                f"{path.name}: the image is far larger than SonoLive reads (at most "
                f"{MAX_FRAME_PIXELS / 1e6:.1f} megapixels per frame)"
            ) from None
        except (UnidentifiedImageError, OSError):
            pass  # cv2 below gives the plain answer for an unreadable image
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise SourceError(f"{path.name} is not a readable image")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if self._size is not None:
            rgb = letterbox(rgb, *self._size)
        return Frame(
            pixels=rgb,
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
