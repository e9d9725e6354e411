"""ESPNet (Mehta et al., ECCV 2018), decoder variant with p=2, q=8 blocks.

Module names follow the layout of the authors' released checkpoints, so their
state dicts load strictly. Input (N, 3, H, W) with H, W multiples of 8
(see :class:`~spnrefine.backbones.registry.Preprocessing`); output (N, K, H, W) logits.
"""

from __future__ import annotations

import torch
from torch import nn

BN_EPS = 1e-3
DILATIONS = (2, 4, 8, 16)


class ConvBnPrelu(nn.Module):
    """Conv (no bias) → BatchNorm → PReLU; keys conv/bn/act."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=BN_EPS)
        self.act = nn.PReLU(c_out)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class BnPrelu(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, eps=BN_EPS)
        self.act = nn.PReLU(channels)

    def forward(self, x):
        return self.act(self.bn(x))


class Conv(nn.Module):
    """Plain conv without bias, 'same' padding for odd kernels; key conv."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, dilation: int = 1):
        super().__init__()
        padding = (kernel // 2) * dilation
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding=padding, dilation=dilation, bias=False)

    def forward(self, x):
        return self.conv(x)


class EspModule(nn.Module):
    """Efficient spatial pyramid: reduce, 5 parallel dilated 3x3 convs, hierarchical sums.

    ``downsample`` makes the reduction a stride-2 3x3 conv and ends with BN+PReLU on
    keys bn/act; otherwise the reduction is 1x1, there is an optional residual, and
    the BN+PReLU lives in ``bn`` (keys bn.bn / bn.act).
    """

    def __init__(self, c_in: int, c_out: int, downsample: bool = False, residual: bool = True):
        super().__init__()
        branch = c_out // 5
        first = c_out - 4 * branch
        self.downsample = downsample
        self.residual = residual and not downsample
        self.c1 = Conv(c_in, branch, 3, 2) if downsample else Conv(c_in, branch, 1, 1)
        self.d1 = Conv(branch, first, 3, 1, 1)
        self.d2, self.d4, self.d8, self.d16 = (Conv(branch, branch, 3, 1, d) for d in DILATIONS)
        if downsample:
            self.bn = nn.BatchNorm2d(c_out, eps=BN_EPS)
            self.act = nn.PReLU(c_out)
        else:
            self.bn = BnPrelu(c_out)

    def forward(self, x):
        reduced = self.c1(x)
        total = self.d2(reduced)
        sums = [total]
        for conv in (self.d4, self.d8, self.d16):
            total = total + conv(reduced)
            sums.append(total)
        out = torch.cat([self.d1(reduced), *sums], dim=1)
        if self.downsample:
            return self.act(self.bn(out))
        if self.residual:
            out = x + out
        return self.bn(out)


class InputProjection(nn.Module):
    """The image downsampled ``times`` times by 3x3 average pooling, stride 2."""

    def __init__(self, times: int):
        super().__init__()
        self.pool = nn.ModuleList(nn.AvgPool2d(3, stride=2, padding=1) for _ in range(times))

    def forward(self, x):
        for pool in self.pool:
            x = pool(x)
        return x


class EspNetEncoder(nn.Module):
    def __init__(self, classes: int, p: int, q: int):
        super().__init__()
        self.level1 = ConvBnPrelu(3, 16, 3, 2)
        self.sample1 = InputProjection(1)
        self.sample2 = InputProjection(2)
        self.b1 = BnPrelu(16 + 3)
        self.level2_0 = EspModule(16 + 3, 64, downsample=True)
        self.level2 = nn.ModuleList(EspModule(64, 64) for _ in range(p))
        self.b2 = BnPrelu(128 + 3)
        self.level3_0 = EspModule(128 + 3, 128, downsample=True)
        self.level3 = nn.ModuleList(EspModule(128, 128) for _ in range(q))
        self.b3 = BnPrelu(256)
        self.classifier = Conv(256, classes, 1, 1)


class EspNet(nn.Module):
    """ESPNet with the light decoder (reduce–upsample modules), 1/8-resolution encoder."""

    def __init__(self, classes: int = 12, p: int = 2, q: int = 8):
        super().__init__()
        self.encoder = EspNetEncoder(classes, p, q)
        self.level3_C = Conv(128 + 3, classes, 1, 1)
        self.br = nn.BatchNorm2d(classes, eps=BN_EPS)
        self.conv = ConvBnPrelu(19 + classes, classes, 3, 1)
        self.up_l3 = nn.Sequential(nn.ConvTranspose2d(classes, classes, 2, stride=2, bias=False))
        self.combine_l2_l3 = nn.Sequential(
            BnPrelu(2 * classes), EspModule(2 * classes, classes, residual=False)
        )
        self.up_l2 = nn.Sequential(nn.ConvTranspose2d(classes, classes, 2, stride=2, bias=False), BnPrelu(classes))
        self.classifier = nn.ConvTranspose2d(classes, classes, 2, stride=2, bias=False)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W), H and W multiples of 8 → (N, classes, H, W) logits."""
        e = self.encoder
        level1 = e.b1(torch.cat([e.level1(image), e.sample1(image)], 1))
        level2_0 = e.level2_0(level1)
        level2 = level2_0
        for block in e.level2:
            level2 = block(level2)
        level2_cat = e.b2(torch.cat([level2, level2_0, e.sample2(image)], 1))
        level3_0 = e.level3_0(level2_cat)
        level3 = level3_0
        for block in e.level3:
            level3 = block(level3)
        level3_cat = e.b3(torch.cat([level3_0, level3], 1))
        up3 = self.up_l3(self.br(e.classifier(level3_cat)))
        up2 = self.up_l2(self.combine_l2_l3(torch.cat([self.level3_C(level2_cat), up3], 1)))
        return self.classifier(self.conv(torch.cat([up2, level1], 1)))
