"""BERT-base, GPT-2 small and T5-small from Hugging Face `transformers` configs (no download).

Each is wrapped so that forward(*inputs) returns one tensor, which timing and ONNX export need:
BERT -> pooled output (B, 768), GPT-2 -> last hidden state (B, T, 768), T5 -> decoder's last
hidden state (B, T_dec, 512) from (input_ids, decoder_input_ids). The wrapped HF classes
(BertModel with pooler, GPT2Model, T5Model) hold exactly the published parameter counts.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import BertConfig, BertModel, GPT2Config, GPT2Model, T5Config, T5Model

# t5-small's config.json, written out so that nothing is downloaded.
T5_SMALL: dict[str, Any] = {
    "vocab_size": 32128,
    "d_model": 512,
    "d_kv": 64,
    "d_ff": 2048,
    "num_layers": 6,
    "num_decoder_layers": 6,
    "num_heads": 8,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "dropout_rate": 0.1,
    "layer_norm_epsilon": 1e-6,
    "feed_forward_proj": "relu",
    "decoder_start_token_id": 0,
    "pad_token_id": 0,
    "eos_token_id": 1,
}
TINY_VOCAB = 128


class BertPooled(nn.Module):
    """BertModel -> pooler output (tanh of the [CLS] state's dense projection)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.model = BertModel(config)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(input_ids=input_ids).pooler_output
        return out


class GPT2Hidden(nn.Module):
    """GPT2Model -> last hidden state (the LM head is tied to the embedding, so no new weights)."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__()
        self.model = GPT2Model(config)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(input_ids=input_ids, use_cache=False).last_hidden_state
        return out


class T5Hidden(nn.Module):
    """T5Model (encoder-decoder) -> the decoder's last hidden state."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.model = T5Model(config)

    def forward(self, input_ids: torch.Tensor, decoder_input_ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(
            input_ids=input_ids, decoder_input_ids=decoder_input_ids, use_cache=False
        ).last_hidden_state
        return out


def bert_config(size: str) -> BertConfig:
    if size == "small":
        return BertConfig(
            vocab_size=TINY_VOCAB,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
        )
    return BertConfig()  # defaults are bert-base-uncased


def gpt2_config(size: str) -> GPT2Config:
    if size == "small":
        return GPT2Config(
            vocab_size=TINY_VOCAB,
            n_positions=64,
            n_embd=32,
            n_layer=2,
            n_head=2,
            bos_token_id=TINY_VOCAB - 1,
            eos_token_id=TINY_VOCAB - 1,
        )
    return GPT2Config()  # defaults are gpt2 (small, 124M)


def t5_config(size: str) -> T5Config:
    values: dict[str, Any] = dict(T5_SMALL)
    if size == "small":
        values.update(
            vocab_size=TINY_VOCAB,
            d_model=32,
            d_kv=16,
            d_ff=64,
            num_layers=2,
            num_decoder_layers=2,
            num_heads=2,
        )
    # The dynamo ONNX exporter needs the eager attention path for T5.
    values["attn_implementation"] = "eager"
    return T5Config(**values)


def build_bert(size: str) -> nn.Module:
    return BertPooled(bert_config(size)).eval()


def build_gpt2(size: str) -> nn.Module:
    return GPT2Hidden(gpt2_config(size)).eval()


def build_t5(size: str) -> nn.Module:
    return T5Hidden(t5_config(size)).eval()
