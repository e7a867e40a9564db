"""The variational autoencoder of pytorch/examples/vae/main.py (Kingma & Welling 2014).

784-400-20 (MNIST): fc1 784->400, fc21/fc22 400->20 (mean, log-variance), fc3 20->400,
fc4 400->784: 652,824 parameters. forward(x) returns the reconstruction (B, 1, H, W) in [0, 1];
in eval mode the latent is the posterior mean (deterministic, as ONNX parity needs), in training
mode a reparameterised sample. `elbo_terms` gives what training and evaluation need.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class VAE(nn.Module):
    def __init__(self, in_features: int = 784, hidden: int = 400, latent: int = 20) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, in_features)
        self.latent = latent

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h1 = F.relu(self.fc1(x.flatten(1)))
        return self.fc21(h1), self.fc22(h1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def elbo_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(reconstruction, per-sample binary cross-entropy, per-sample KL divergence)."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        recon = self.decode(z)
        flat = x.flatten(1)
        bce = F.binary_cross_entropy(recon, flat, reduction="none").sum(1)
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)
        return recon, bce, kld

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decode(z).view_as(x)
