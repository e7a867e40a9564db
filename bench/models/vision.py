"""torchvision CNNs (ResNet-18/50, VGG16) at full size, and tiny configurations of the same design."""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models import resnet, vgg

# VGG16's configuration "D" (13 convolutions in five blocks) at one eighth of the width.
_TINY_VGG16 = [8, 8, "M", 16, 16, "M", 32, 32, 32, "M", 64, 64, 64, "M", 64, 64, 64, "M"]


class TinyVGG(nn.Module):
    """VGG16's layer pattern (features, avgpool, 3-layer classifier) at a fraction of its width."""

    def __init__(self, num_classes: int = 10, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = vgg.make_layers(_TINY_VGG16)  # type: ignore[arg-type]
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(64, 64),
            nn.ReLU(True),
            nn.Dropout(dropout),
            nn.Linear(64, 64),
            nn.ReLU(True),
            nn.Dropout(dropout),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
        return out


def build_resnet18(size: str) -> nn.Module:
    small = size == "small"
    model: nn.Module = (
        resnet.ResNet(resnet.BasicBlock, [1, 1, 1, 1], num_classes=10)
        if small
        else resnet.resnet18()
    )
    return model


def build_resnet50(size: str) -> nn.Module:
    if size == "small":
        # Same bottleneck design; one block per stage and a quarter of the inner width.
        model: nn.Module = resnet.ResNet(
            resnet.Bottleneck, [1, 1, 1, 1], num_classes=10, width_per_group=16
        )
    else:
        model = resnet.resnet50()
    return model


def build_vgg16(size: str) -> nn.Module:
    model: nn.Module = TinyVGG() if size == "small" else vgg.vgg16()
    return model


def pretrained(name: str) -> nn.Module:
    """torchvision's pretrained ImageNet weights (from its cache, else a download)."""
    from torchvision import models

    module: nn.Module = models.get_model(name, weights="DEFAULT")
    return module


def build_vit_b_16(size: str) -> nn.Module:
    """ViT-B/16 (Dosovitskiy et al. 2021) as torchvision builds it; small: the same design on
    32x32 images with 8x8 patches, 2 layers of width 32."""
    from torchvision.models import vision_transformer

    if size == "small":
        model: nn.Module = vision_transformer.VisionTransformer(
            image_size=32,
            patch_size=8,
            num_layers=2,
            num_heads=2,
            hidden_dim=32,
            mlp_dim=64,
            num_classes=10,
        )
    else:
        model = vision_transformer.vit_b_16()
    return model
