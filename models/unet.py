"""A small, configurable U-Net and a name registry of architectures."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


class DoubleConv(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class Up(nn.Module):
    """Bilinear upsampling then a double conv on the skip concatenation.

    Bilinear upsampling instead of transposed convolutions: fewer weights, no checkerboard
    artefacts on speckle, and it exports cleanly to ONNX.
    """

    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.conv = DoubleConv(cin + cskip, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([x, skip], dim=1))


class UNet(nn.Module):
    """U-Net with ``depth`` down-sampling steps; channels double from ``width`` at each level."""

    def __init__(self, in_channels: int = 1, num_classes: int = 2, width: int = 16, depth: int = 4):
        super().__init__()
        if depth < 1 or width < 1:
            raise ValueError("U-Net width and depth must be positive")
        chans = [width * 2**i for i in range(depth + 1)]
        self.inc = DoubleConv(in_channels, chans[0])
        self.downs = nn.ModuleList(DoubleConv(chans[i], chans[i + 1]) for i in range(depth))
        self.ups = nn.ModuleList(
            Up(chans[i + 1], chans[i], chans[i]) for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(chans[0], num_classes, 1)
        self.in_channels, self.num_classes, self.width, self.depth = (
            in_channels,
            num_classes,
            width,
            depth,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(F.max_pool2d(skips[-1], 2)))
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return self.head(x)


ARCHITECTURES = {"unet": UNet}
#: bounds on a card's ``arch`` (a hostile card could ask for terabytes of weights)
ARCH_LIMITS = {"width": (1, 256), "depth": (1, 8)}
MAX_PARAMETERS = 50_000_000  # 200 MB of float32; fast-lite has about 0.5 M


def check_arch(arch: dict[str, Any], in_channels: int, num_classes: int) -> None:
    """Refuse an ``arch`` entry before anything is allocated: known keys, integers in
    bounds, and at most ``MAX_PARAMETERS`` weights (counted on the meta device)."""
    arch = dict(arch)
    kind = arch.pop("type", "unet")
    if kind not in ARCHITECTURES:
        raise ValueError(f"unknown architecture '{kind}' (known: {', '.join(ARCHITECTURES)})")
    unknown = sorted(set(arch) - set(ARCH_LIMITS))
    if unknown:
        raise ValueError(f"unknown 'arch' entries {unknown} (known: type, width, depth)")
    for key, (lo, hi) in ARCH_LIMITS.items():
        v = arch.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi):
            raise ValueError(f"'{key}' must be a whole number from {lo} to {hi}, got {v!r}")
    with torch.device("meta"):
        n = count_parameters(ARCHITECTURES[kind](in_channels, num_classes, **arch))
    if n > MAX_PARAMETERS:
        raise ValueError(f"it would have {n:,} parameters; at most {MAX_PARAMETERS:,} are allowed")


def build_network(arch: dict[str, Any], in_channels: int, num_classes: int) -> nn.Module:
    """Build a network from a card's ``arch`` entry, e.g. ``{"type": "unet", "width": 8}``."""
    check_arch(arch, in_channels, num_classes)
    arch = dict(arch)
    kind = arch.pop("type", "unet")
    return ARCHITECTURES[kind](in_channels=in_channels, num_classes=num_classes, **arch)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
