"""An LRU of review Results, bounded by count and bytes, so scrubbing back is instant."""

from __future__ import annotations

from collections import OrderedDict

from .pipeline import Result


class ResultCache:
    """LRU of Results keyed by (index, model key, style key), bounded by count and bytes."""

    def __init__(self, max_items: int = 240, max_bytes: int = 512 * 2**20) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._d: OrderedDict[tuple, tuple[Result, int]] = OrderedDict()
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: tuple) -> bool:
        return key in self._d

    def get(self, key: tuple) -> Result | None:
        item = self._d.get(key)
        if item is None:
            return None
        self._d.move_to_end(key)
        return item[0]

    def put(self, key: tuple, result: Result) -> None:
        size = int(result.frame.pixels.nbytes)
        if result.image is not result.frame.pixels:
            size += int(result.image.nbytes)
        if result.seg is not None:
            size += int(result.seg.labels.nbytes)
        old = self._d.pop(key, None)
        if old is not None:
            self.nbytes -= old[1]
        self._d[key] = (result, size)
        self.nbytes += size
        while self._d and (len(self._d) > self.max_items or self.nbytes > self.max_bytes):
            _, (_, s) = self._d.popitem(last=False)
            self.nbytes -= s

    def clear(self) -> None:
        self._d.clear()
        self.nbytes = 0
