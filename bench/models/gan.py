"""DCGAN (Radford et al. 2016) as in pytorch/examples/dcgan/main.py: generator and discriminator.

At nz=100, ngf=ndf=64, 3 channels and 64x64 images, the generator holds 3,576,704 parameters and
the discriminator 2,765,568 (pytorch/examples' Generator and Discriminator, counted). `image_size`
must be 4 x 2^k: each further stage doubles the side with a stride-2 (transposed) convolution.
"""

from __future__ import annotations

import torch
from torch import nn


def _stages(image_size: int) -> int:
    stages = 0
    side = 4
    while side < image_size:
        side *= 2
        stages += 1
    if side != image_size or stages < 1:
        raise ValueError(f"DCGAN image size must be 4 x 2^k (8, 16, 32, 64, ...), got {image_size}")
    return stages


class Generator(nn.Module):
    """z (B, nz, 1, 1) -> image (B, nc, S, S) in [-1, 1] (tanh)."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3, image_size: int = 64) -> None:
        super().__init__()
        stages = _stages(image_size)
        width = ngf * 2 ** (stages - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        ]
        for _ in range(stages - 1):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.nz = nz

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.main(z)
        return out


class Discriminator(nn.Module):
    """image (B, nc, S, S) -> probability of being real (B,) (sigmoid)."""

    def __init__(self, ndf: int = 64, nc: int = 3, image_size: int = 64) -> None:
        super().__init__()
        stages = _stages(image_size)
        layers: list[nn.Module] = [
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        width = ndf
        for _ in range(stages - 1):
            layers += [
                nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            width *= 2
        layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.main(image)
        return out.view(-1, 1).squeeze(1)


def init_weights(module: nn.Module) -> None:
    """pytorch/examples' weights_init: N(0, 0.02) convolutions, N(1, 0.02) batch-norm scales."""
    for sub in module.modules():
        if isinstance(sub, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(sub.weight, 0.0, 0.02)
        elif isinstance(sub, nn.BatchNorm2d):
            nn.init.normal_(sub.weight, 1.0, 0.02)
            nn.init.zeros_(sub.bias)
