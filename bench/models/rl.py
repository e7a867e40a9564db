"""The deep Q-network of Mnih et al. (2015, Nature, "Methods: model architecture"): 4 stacked
84x84 frames -> conv 32 8x8/4 -> conv 64 4x4/2 -> conv 64 3x3/1 -> fc 512 -> one Q-value per
action (18 for the full Atari action set): 1,693,362 parameters.

CartPole (the evaluation's environment) has a 4-number state and no frames, so `MLPQNetwork` is
the same value network with the convolutions replaced by one hidden layer.
"""

from __future__ import annotations

import torch
from torch import nn


class NatureDQN(nn.Module):
    """frames (B, 4, S, S) in [0, 1] -> Q-values (B, actions)."""

    def __init__(
        self,
        actions: int = 18,
        frames: int = 4,
        size: int = 84,
        channels: tuple[int, int, int] = (32, 64, 64),
        hidden: int = 512,
    ) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.features = nn.Sequential(
            nn.Conv2d(frames, c1, 8, stride=4),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 4, stride=2),
            nn.ReLU(),
            nn.Conv2d(c2, c3, 3, stride=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        side = ((size - 8) // 4 + 1 - 4) // 2 + 1 - 2  # 84 -> 20 -> 9 -> 7
        self.head = nn.Sequential(
            nn.Linear(c3 * side * side, hidden), nn.ReLU(), nn.Linear(hidden, actions)
        )

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(frames))
        return out


class MLPQNetwork(nn.Module):
    """state (B, D) -> Q-values (B, actions): DQN's value network for low-dimensional states."""

    def __init__(self, state_dim: int, actions: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(state_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, actions),
        )

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(state)
        return out
