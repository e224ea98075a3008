"""CPU preprocessing of a frame for the network, safe to run on any thread.

The live pipeline runs it on the capture thread, so that the colour conversion and the
shrink to the network's size overlap the previous frame's forward pass instead of adding to
it. Every call returns a new array: nothing is shared between threads.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..models.card import ModelCard


def shrink(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-average ``img`` down (or bilinear up) to ``width`` x ``height``.

    A big shrink goes in two steps: first by the largest whole factor, where OpenCV's area
    filter takes its fast integer path (four times faster at 1080p), then the rest of the way.
    Both steps average areas, so speckle does not alias into the network's input.
    """
    h0, w0 = img.shape[:2]
    if (w0, h0) == (width, height):
        return img
    if h0 < height or w0 < width:
        return cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)
    k = min(h0 // height, w0 // width)
    if k >= 2:
        hk, wk = h0 // k, w0 // k
        img = cv2.resize(img[: hk * k, : wk * k], (wk, hk), interpolation=cv2.INTER_AREA)
        if (wk, hk) == (width, height):
            return img
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


class HostPreprocessor:
    """RGB uint8 frame -> the network's normalised ``1 x C x h x w`` float32 input.

    ``key`` names the input it makes (size, channels, normalisation): a frame prepared for
    one model is used by another only when their keys agree.
    """

    def __init__(self, card: ModelCard) -> None:
        h, w = card.input_size
        c = card.channels
        mean = list(card.mean) * (c // len(card.mean))
        std = list(card.std) * (c // len(card.std))
        self.size = (h, w)
        self.channels = c
        self.key = (h, w, c, tuple(mean), tuple(std))
        # x / 255 - mean) / std folded into one multiply-add per pixel
        self._scale = (1.0 / (255.0 * np.asarray(std, np.float32))).reshape(c, 1, 1)
        self._offset = (-np.asarray(mean, np.float32) / np.asarray(std, np.float32)).reshape(
            c, 1, 1
        )

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        h, w = self.size
        img = rgb if self.channels == 3 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        img = shrink(img, w, h).reshape(h, w, self.channels)
        x = np.empty((1, self.channels, h, w), np.float32)
        np.multiply(img.transpose(2, 0, 1), self._scale, out=x[0], casting="unsafe")
        x[0] += self._offset
        return x
