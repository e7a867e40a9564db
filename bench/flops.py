"""FLOP counting: torch's FlopCounterMode where it sees the work, standard formulas where it does not.

Conventions (those of torchvision's and fvcore's tables): one multiply-accumulate (MAC) of a
convolution, matmul or attention product counts as one MAC and two FLOPs; element-wise work
(activations, normalisation, pooling, bias adds, softmax) is not counted. torchvision's "GFLOPS"
column is therefore MACs: ResNet-18 at 224x224 is 1.814 GMACs = 3.628 GFLOPs.

FlopCounterMode misses two kinds of work on CPU: recurrent layers that run as one fused kernel
(nn.LSTM goes through aten.mkldnn_rnn_layer and counts 0, while nn.GRU may decompose into counted
matmuls) and scaled-dot-product attention kernels without a registered formula
(aten._scaled_dot_product_flash_attention_for_cpu). For both we replace whatever the counter saw
with the formula, so the figure does not depend on which kernel happened to run.

Models whose work the counter cannot see at all (sparse message passing of graph networks, the
element-wise selective scan of state-space models) state it themselves: a module with an
`uncounted_macs(*inputs) -> int` method has that figure added (method 'counter+formula').
Models whose work depends on the data (a mixture of experts' routing) provide a
`flop_counting()` context manager that runs a data-independent stand-in with the work the stated
rule implies (top-1 routing, no token dropped), which the counter then counts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


@dataclass(frozen=True)
class FlopCount:
    """Work of one forward pass: multiply-accumulates, FLOPs (2 x MACs) and how they were found."""

    macs: int
    flops: int
    method: str  # 'counter' | 'formula' | 'counter+formula'

    def to_dict(self) -> dict[str, Any]:
        return {"macs": self.macs, "flops": self.flops, "method": self.method}


def linear_macs(batch: int, in_features: int, out_features: int) -> int:
    """MACs of a dense layer applied to `batch` vectors."""
    return batch * in_features * out_features


def conv2d_macs(
    batch: int, in_channels: int, out_channels: int, kernel: int, out_h: int, out_w: int
) -> int:
    """MACs of a square-kernel 2-D convolution (groups=1) producing an out_h x out_w map."""
    return batch * out_channels * out_h * out_w * in_channels * kernel * kernel


def recurrent_macs(
    kind: str,
    batch: int,
    seq_len: int,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
) -> int:
    """MACs of a multi-layer RNN/LSTM/GRU: per step and direction, gates x (I*H + H*H).

    kind is 'rnn', 'lstm' or 'gru' (or torch's mode names RNN_TANH, RNN_RELU, LSTM, GRU).
    """
    mode = {"rnn": "RNN_TANH", "lstm": "LSTM", "gru": "GRU"}.get(kind, kind)
    gates = GATES[mode]
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else hidden_size * directions
        step = gates * (layer_input * hidden_size + hidden_size * hidden_size)
        total += batch * seq_len * directions * step
    return total


def attention_macs(
    batch: int,
    heads: int,
    query_len: int,
    key_len: int,
    head_dim: int,
    value_dim: int | None = None,
) -> int:
    """MACs of softmax(Q K^T) V without the projections: Q K^T plus the weighted sum of V."""
    value_dim = head_dim if value_dim is None else value_dim
    return batch * heads * query_len * key_len * (head_dim + value_dim)


class _AttentionRecorder(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Records the shapes of fused scaled-dot-product attention kernels as they run."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.macs = 0

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        if _is_attention_op(func):
            query, key, value = args[0], args[1], args[2]
            *lead, query_len, head_dim = query.shape
            batch_heads = 1
            for size in lead:
                batch_heads *= int(size)
            self.macs += attention_macs(
                batch_heads,
                1,
                int(query_len),
                int(key.shape[-2]),
                int(head_dim),
                int(value.shape[-1]),
            )
        return func(*args, **(kwargs or {}))


def _is_attention_op(func: Any) -> bool:
    name = str(func)
    return (
        "scaled_dot_product" in name or "flash_attention" in name or ("efficient_attention" in name)
    )


def count_flops(module: nn.Module, inputs: Sequence[torch.Tensor]) -> FlopCount:
    """Count one forward pass of `module(*inputs)` (no_grad), correcting the counter's blind spots."""
    counter = FlopCounterMode(display=False)
    recorder = _AttentionRecorder()
    # Recurrent modules: remember what the counter saw inside each call and what the formula says.
    seen_inside: list[int] = []
    formula_total = [0]

    def before(_: nn.Module, __: Any) -> None:
        seen_inside.append(counter.get_total_flops())

    def after(rnn: nn.Module, args: Any, _: Any) -> None:
        start = seen_inside.pop()
        seen = counter.get_total_flops() - start
        formula_total[0] += _rnn_module_macs(rnn, args[0])
        # Whatever the counter recorded inside is replaced by the formula below.
        formula_total[0] -= seen // 2

    hooks: list[Callable[[], None]] = []
    for sub in module.modules():
        if isinstance(sub, nn.RNNBase):
            hooks.append(sub.register_forward_pre_hook(before).remove)
            hooks.append(sub.register_forward_hook(after).remove)
    # Frozen parameters: the counter's module tracker hooks every tensor that requires grad, and
    # a view of a weight taken under no_grad (transformers' Mamba convolution) has no grad_fn.
    trainable = [p for p in module.parameters() if p.requires_grad]
    try:
        for parameter in trainable:
            parameter.requires_grad_(False)
        counting = getattr(module, "flop_counting", None)
        stand_in = counting() if callable(counting) else contextlib.nullcontext()
        with torch.no_grad(), stand_in, counter, recorder:
            module(*inputs)
    finally:
        for remove in hooks:
            remove()
        for parameter in trainable:
            parameter.requires_grad_(True)
    counted_attention = sum(
        count
        for op, count in counter.get_flop_counts().get("Global", {}).items()
        if _is_attention_op(op)
    )
    counter_macs = (counter.get_total_flops() - counted_attention) // 2
    stated = getattr(module, "uncounted_macs", None)
    stated_macs = int(stated(*inputs)) if callable(stated) else 0
    extra_macs = formula_total[0] + recorder.macs + stated_macs
    used_formula = (
        recorder.macs > 0
        or stated_macs > 0
        or callable(getattr(module, "flop_counting", None))
        or any(isinstance(m, nn.RNNBase) for m in module.modules())
    )
    method = ("counter+formula" if counter_macs > 0 else "formula") if used_formula else "counter"
    macs = counter_macs + extra_macs
    return FlopCount(macs=macs, flops=2 * macs, method=method)


def _rnn_module_macs(rnn: nn.Module, data: torch.Tensor) -> int:
    assert isinstance(rnn, nn.RNNBase)
    if rnn.proj_size:
        raise NotImplementedError("FLOP formula for LSTM with proj_size is not implemented")
    if data.dim() == 2:  # unbatched (T, I)
        batch, seq_len = 1, data.shape[0]
    elif rnn.batch_first:
        batch, seq_len = data.shape[0], data.shape[1]
    else:
        seq_len, batch = data.shape[0], data.shape[1]
    return recurrent_macs(
        rnn.mode,
        int(batch),
        int(seq_len),
        rnn.input_size,
        rnn.hidden_size,
        rnn.num_layers,
        rnn.bidirectional,
    )
