"""The DDPM UNet of Ho et al. (2020) for CIFAR-10, as diffusers' UNet2DModel with the config of
google/ddpm-cifar10-32 written out (35,746,307 parameters). forward(noisy image (B, C, H, W),
timestep (B,) int64) returns the predicted noise (B, C, H, W)."""

from __future__ import annotations

from typing import Any

import torch
from diffusers import UNet2DModel
from torch import nn

# google/ddpm-cifar10-32's unet/config.json (the scheduler uses 1000 linear-beta steps).
DDPM_CIFAR10: dict[str, Any] = {
    "sample_size": 32,
    "in_channels": 3,
    "out_channels": 3,
    "center_input_sample": False,
    "time_embedding_type": "positional",
    "freq_shift": 1,
    "flip_sin_to_cos": False,
    "down_block_types": ("DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
    "block_out_channels": (128, 256, 256, 256),
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "downsample_padding": 0,
    "act_fn": "silu",
    "attention_head_dim": None,
    "norm_num_groups": 32,
    "norm_eps": 1e-6,
}
DDPM_STEPS = 1000

# The same design at 8x8 (scikit-learn's digits): two resolutions, attention at the second.
DDPM_SMALL: dict[str, Any] = DDPM_CIFAR10 | {
    "sample_size": 8,
    "in_channels": 1,
    "out_channels": 1,
    "down_block_types": ("DownBlock2D", "AttnDownBlock2D"),
    "up_block_types": ("AttnUpBlock2D", "UpBlock2D"),
    "block_out_channels": (32, 64),
    "layers_per_block": 1,
    "norm_num_groups": 8,
}


class NoisePredictor(nn.Module):
    """UNet2DModel -> its `sample` output (the predicted noise)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.model: nn.Module = UNet2DModel(**config)  # type: ignore[no-untyped-call,assignment]

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(sample, timestep, return_dict=False)[0]
        return out


def build_ddpm(size: str) -> nn.Module:
    return NoisePredictor(DDPM_SMALL if size == "small" else DDPM_CIFAR10)
