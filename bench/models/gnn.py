"""Graph neural networks of Kipf & Welling (GCN) and Velickovic et al. (GAT) on torch_geometric.

Both take a batch of same-sized graphs as (x (B, N, F), edge_index (B, 2, E)), so that every input
has the batch first (as timing and the ONNX export's symbolic batch need); the graphs are stacked
into one disjoint graph, run, and the node logits returned as (B, N, classes).

Message passing runs as sparse gathers and scatters, which torch's FLOP counter does not see (it
counts the dense feature transforms only); `uncounted_macs` states that work:
- GCN layer (Kipf & Welling 2017, eq. 2): each of the E edges and N self-loops adds one weighted
  neighbour vector: (E + N) x out_features MACs.
- GAT layer (Velickovic et al. 2018): per head, the attention logits a^T [W h_i || W h_j] as two
  dot products per node (2 x N x out) and the weighted sum over E edges plus N self-loops
  ((E + N) x out).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATConv, GCNConv


def _disjoint(x: torch.Tensor, edge_index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, N, F), (B, 2, E) -> one graph of B*N nodes: (B*N, F), (2, B*E)."""
    batch, nodes, features = x.shape
    offsets = (torch.arange(batch, device=x.device) * nodes).view(batch, 1, 1)
    edges = (edge_index + offsets).transpose(0, 1).reshape(2, -1)
    return x.reshape(batch * nodes, features), edges


class GCN(nn.Module):
    """Two-layer GCN: GCNConv(F, hidden) -> ReLU -> dropout -> GCNConv(hidden, classes).

    Cora (1433 features, 16 hidden, 7 classes): 23,063 parameters (Kipf & Welling 2017, sec. 5.2)."""

    def __init__(
        self, in_features: int, hidden: int, num_classes: int, dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.conv1 = GCNConv(in_features, hidden)
        self.conv2 = GCNConv(hidden, num_classes)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        batch, nodes, _ = x.shape
        h, edges = _disjoint(x, edge_index)
        h = F.dropout(h, self.dropout, self.training)
        h = F.relu(self.conv1(h, edges))
        h = F.dropout(h, self.dropout, self.training)
        out: torch.Tensor = self.conv2(h, edges)
        return out.view(batch, nodes, -1)

    def uncounted_macs(self, x: torch.Tensor, edge_index: torch.Tensor) -> int:
        batch, nodes, _ = x.shape
        messages = batch * (edge_index.shape[-1] + nodes)
        return messages * (int(self.conv1.out_channels) + int(self.conv2.out_channels))


class GAT(nn.Module):
    """Two-layer GAT: GATConv(F, 8, heads=8) -> ELU -> GATConv(64, classes, heads=1).

    Cora (Velickovic et al. 2018, sec. 3.3: 8 heads of 8 features, one output head): 92,373
    parameters."""

    def __init__(
        self,
        in_features: int,
        hidden: int,
        heads: int,
        num_classes: int,
        dropout: float = 0.6,
    ) -> None:
        super().__init__()
        self.conv1 = GATConv(in_features, hidden, heads=heads, dropout=dropout)
        self.conv2 = GATConv(hidden * heads, num_classes, heads=1, concat=False, dropout=dropout)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        batch, nodes, _ = x.shape
        h, edges = _disjoint(x, edge_index)
        h = F.dropout(h, self.dropout, self.training)
        h = F.elu(self.conv1(h, edges))
        h = F.dropout(h, self.dropout, self.training)
        out: torch.Tensor = self.conv2(h, edges)
        return out.view(batch, nodes, -1)

    def uncounted_macs(self, x: torch.Tensor, edge_index: torch.Tensor) -> int:
        batch, nodes, _ = x.shape
        edges = batch * (edge_index.shape[-1] + nodes)
        total = 0
        for conv in (self.conv1, self.conv2):
            width = conv.heads * conv.out_channels
            total += 2 * batch * nodes * width + edges * width
        return total


def random_graph(
    nodes: int, edges: int, features: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random undirected graph: features (N, F) and `edges` directed edges (2, E), each
    undirected edge stored both ways as torch_geometric does (Cora: 5,278 edges -> E = 10,556)."""
    half = edges // 2
    src = torch.randint(0, nodes, (half,), generator=generator)
    dst = (src + 1 + torch.randint(0, nodes - 1, (half,), generator=generator)) % nodes
    edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    return torch.randn(nodes, features, generator=generator), edge_index
