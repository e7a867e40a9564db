"""Sequence classifiers on torch.nn.RNN, LSTM and GRU: embed tokens, run the cell, classify."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import nn

CellKind = Literal["rnn", "lstm", "gru"]
_CELLS: dict[str, Callable[..., nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentClassifier(nn.Module):
    """Embedding -> multi-layer RNN/LSTM/GRU -> linear head on the last time step's output."""

    def __init__(
        self,
        kind: CellKind,
        vocab_size: int,
        embed_dim: int,
        hidden_size: int,
        num_layers: int,
        num_classes: int,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = _CELLS[kind](
            embed_dim,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.rnn(self.embedding(tokens))
        out: torch.Tensor = self.head(self.dropout(outputs[:, -1]))
        return out
