"""Mamba-130m (Gu & Dao 2023) from a transformers MambaConfig of state-spaces/mamba-130m-hf
written out (no download): 24 layers, d_model 768, d_inner 1536, state 16, 129,135,360
parameters (the language-model head is tied to the embedding).

forward(token ids (B, T)) returns next-token logits (B, T, vocab) with the tied head.

Without the CUDA kernels, transformers runs the selective scan as a Python loop over time steps:
the state update h_t = exp(dt A) h_{t-1} + (dt B_t) x_t is element-wise work that torch's FLOP
counter does not see (the read-out C_t h_t is a counted matmul). `uncounted_macs` states it: two
multiplies per (channel, state) per step and layer, 2 x layers x B x T x d_inner x state MACs.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import MambaConfig, MambaForCausalLM

# state-spaces/mamba-130m-hf's config.json (fields that shape the network).
MAMBA_130M: dict[str, Any] = {
    "vocab_size": 50280,
    "hidden_size": 768,
    "state_size": 16,
    "num_hidden_layers": 24,
    "expand": 2,
    "conv_kernel": 4,
    "time_step_rank": 48,
    "use_bias": False,
    "use_conv_bias": True,
    "layer_norm_epsilon": 1e-5,
    "residual_in_fp32": True,
    "tie_word_embeddings": True,
    "pad_token_id": 0,
    "bos_token_id": 0,
    "eos_token_id": 0,
}
SMALL_VOCAB = 32
MAMBA_SMALL: dict[str, Any] = MAMBA_130M | {
    "vocab_size": SMALL_VOCAB,
    "hidden_size": 32,
    "state_size": 8,
    "num_hidden_layers": 2,
    "time_step_rank": 4,
}


class MambaLM(nn.Module):
    """MambaForCausalLM -> logits (B, T, vocab)."""

    def __init__(self, config: MambaConfig) -> None:
        super().__init__()
        self.model = MambaForCausalLM(config)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(input_ids=input_ids, use_cache=False).logits
        return out

    def uncounted_macs(self, input_ids: torch.Tensor) -> int:
        config = self.model.config
        batch, steps = input_ids.shape
        inner = config.intermediate_size
        return 2 * config.num_hidden_layers * batch * steps * inner * config.state_size


def mamba_config(size: str) -> MambaConfig:
    values = MAMBA_SMALL if size == "small" else MAMBA_130M
    return MambaConfig(**values)


def build_mamba(size: str) -> nn.Module:
    return MambaLM(mamba_config(size))
