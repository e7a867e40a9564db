"""Switch Transformer (Fedus et al. 2022), google/switch-base-8: a T5-base encoder-decoder whose
every second feed-forward layer is a top-1 routed mixture of 8 experts. Built from a transformers
SwitchTransformersConfig written out (no download): 619,339,008 parameters in
SwitchTransformersModel (the LM head is tied to the embedding; the model card rounds to 620M).

forward(input ids (B, T), decoder input ids (B, T_dec)) returns the decoder's last hidden state.

Routing: each token goes to ONE expert (top-1), chosen by a dense router (a counted matmul); the
tokens are then gathered per expert, a data-dependent split that the meta device cannot run.
FLOPs are counted under the stated rule instead (`flop_counting`): top-1 routing with no token
over an expert's capacity, so each token costs one expert's 2 x d_model x d_ff MACs, the same as
the dense feed-forward layer it replaces; the router's matmul is counted as it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from transformers import SwitchTransformersConfig, SwitchTransformersModel
from transformers.models.switch_transformers import modeling_switch_transformers as switch

# google/switch-base-8's config.json (fields that shape the network).
SWITCH_BASE_8: dict[str, Any] = {
    "vocab_size": 32128,
    "d_model": 768,
    "d_kv": 64,
    "d_ff": 3072,
    "num_layers": 12,
    "num_decoder_layers": 12,
    "num_heads": 12,
    "num_experts": 8,
    "num_sparse_encoder_layers": 6,
    "num_sparse_decoder_layers": 6,
    "expert_capacity": 64,
    "router_bias": False,
    "router_jitter_noise": 0.01,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "layer_norm_epsilon": 1e-6,
    "dense_act_fn": "relu",
    "tie_word_embeddings": True,
    "decoder_start_token_id": 0,
    "pad_token_id": 0,
    "eos_token_id": 1,
}
SMALL_VOCAB = 32
SWITCH_SMALL: dict[str, Any] = SWITCH_BASE_8 | {
    "vocab_size": SMALL_VOCAB,
    "d_model": 32,
    "d_kv": 16,
    "d_ff": 64,
    "num_layers": 2,
    "num_decoder_layers": 2,
    "num_heads": 2,
    "num_experts": 4,
    "num_sparse_encoder_layers": 1,
    "num_sparse_decoder_layers": 1,
    "expert_capacity": 64,
}


class SwitchHidden(nn.Module):
    """SwitchTransformersModel -> the decoder's last hidden state (B, T_dec, d_model)."""

    def __init__(self, config: SwitchTransformersConfig) -> None:
        super().__init__()
        self.model = SwitchTransformersModel(config)

    def forward(self, input_ids: torch.Tensor, decoder_input_ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(
            input_ids=input_ids, decoder_input_ids=decoder_input_ids, use_cache=False
        ).last_hidden_state
        return out

    @contextmanager
    def flop_counting(self) -> Iterator[None]:
        """Every token through one expert with its routing weight: top-1 work, data-independent."""

        def top1(
            experts: nn.ModuleDict,
            hidden: torch.Tensor,
            selected: torch.Tensor,
            weights: torch.Tensor,
        ) -> torch.Tensor:
            out: torch.Tensor = experts["expert_0"](hidden) * weights
            return out

        original = switch.SwitchTransformersExperts.forward
        switch.SwitchTransformersExperts.forward = top1  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            switch.SwitchTransformersExperts.forward = original  # type: ignore[method-assign]


def switch_config(size: str) -> SwitchTransformersConfig:
    values = dict(SWITCH_SMALL if size == "small" else SWITCH_BASE_8)
    values["attn_implementation"] = "eager"
    return SwitchTransformersConfig(**values)


def build_switch(size: str) -> nn.Module:
    return SwitchHidden(switch_config(size))
