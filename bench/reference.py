"""Which zoo model stands for each family: the canonical network of the family's paper.

A family's headline figure on the Radar comes from this model at full size, never from a toy or
a small variant (a tiny Transformer would otherwise stand for BERT-base next to LeNet-5). Kept
apart from the zoo's code so that reading it imports no torch.
"""

from __future__ import annotations

CANONICAL_MODELS: dict[str, str] = {
    "mlp": "mlp",
    "cnn": "resnet50",
    "rnn": "rnn",
    "lstm": "lstm",
    "gru": "gru",
    "transformer": "bert-base",
    "gnn": "gcn",
    "gan": "dcgan",
    "vae": "vae",
    "diffusion": "ddpm-unet",
    "ssm": "mamba-130m",
    "moe": "switch-base-8",
    "rl": "dqn",
}


def canonical_model(family: str) -> str | None:
    """The model whose full-size figures stand for `family` (None: no canonical model yet)."""
    return CANONICAL_MODELS.get(family)
