"""The model zoo: published parameter counts, FLOPs against hand formulas, shapes, checkpoints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bench.flops import attention_macs, count_flops, recurrent_macs
from bench.zoo import ModelSpec, get_model, list_models
from core.errors import DlradarError, NotFoundError

torch.set_num_threads(1)

PUBLISHED = {
    "lenet5": 61_706,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "vgg16": 138_357_544,
    "bert-base": 109_482_240,
    "gpt2": 124_439_808,
    "t5-small": 60_506_624,
}
# The further families' reference models (issue #17) are tested in test_zoo_families.py.
FURTHER = {
    "vit-b-16": 86_567_656,
    "gcn": 23_063,
    "gat": 92_373,
    "dcgan": 3_576_704,
    "dcgan-discriminator": 2_765_568,
    "vae": 652_824,
    "ddpm-unet": 35_746_307,
    "mamba-130m": 129_135_360,
    "switch-base-8": 619_339_008,
    "dqn": 1_693_362,
}
FAMILIES = {
    "mlp", "cnn", "rnn", "lstm", "gru", "transformer",
    "gnn", "gan", "vae", "diffusion", "ssm", "moe", "rl",
}  # fmt: skip
_full_builds: dict[str, nn.Module] = {}


def full_build(name: str) -> nn.Module:
    """Each full-size model is built at most once per session (BERT/GPT-2 take seconds and GBs)."""
    if name not in _full_builds:
        _full_builds[name] = get_model(name).build()
    return _full_builds[name]


@pytest.fixture(autouse=True, scope="module")
def _release_full_builds() -> Iterator[None]:
    yield
    _full_builds.clear()  # give the gigabytes back to the rest of the test session


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_registry_names_families_and_sources() -> None:
    names = [spec.name for spec in list_models()]
    expected = {"lenet5", "mlp", "rnn", "lstm", "gru", "transformer-tiny", *PUBLISHED, *FURTHER}
    assert set(names) == expected and len(names) == len(expected)
    for spec in list_models():
        assert spec.family in FAMILIES
        assert spec.source in {
            "dlradar", "torchvision", "transformers", "torch_geometric", "diffusers"
        }  # fmt: skip
        assert spec.task in {"image", "sequence", "graph", "noise", "denoise"}
        assert spec.published_params == (PUBLISHED | FURTHER).get(spec.name)
    assert {s.name for s in list_models() if s.quick} >= {"lenet5", "mlp", "lstm"}
    assert get_model("gru").family == "gru"


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(NotFoundError, match=r"resnet18.*t5-small|lenet5.*gpt2"):
        get_model("alexnet")


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_params_equal_published_counts(name: str) -> None:
    assert get_model(name).params() == PUBLISHED[name]


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "resnet50", "t5-small"])
def test_real_full_build_has_published_count(name: str) -> None:
    assert n_params(full_build(name)) == PUBLISHED[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg16", "bert-base", "gpt2"])
def test_real_full_build_of_large_models(name: str) -> None:
    module = full_build(name)
    assert n_params(module) == PUBLISHED[name]
    assert not module.training


def test_lenet5_flops_match_hand_formula() -> None:
    conv1 = 6 * 28 * 28 * (1 * 5 * 5)
    conv2 = 16 * 10 * 10 * (6 * 5 * 5)
    dense = 400 * 120 + 120 * 84 + 84 * 10
    macs = conv1 + conv2 + dense
    count = get_model("lenet5").flops()
    assert (count.macs, count.flops, count.method) == (macs, 2 * macs, "counter")
    assert get_model("lenet5").flops(8).macs == 8 * macs


def test_mlp_flops_match_hand_formula() -> None:
    macs = 784 * 512 + 512 * 256 + 256 * 10
    count = get_model("mlp").flops(batch_size=3)
    assert (count.macs, count.flops) == (3 * macs, 6 * macs)


@pytest.mark.parametrize(("name", "gates"), [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_recurrent_flops_match_hand_formula(name: str, gates: int) -> None:
    # Embedding 64 -> 2 layers of hidden 128 over 64 steps -> linear 128 -> 4.
    steps, embed, hidden = 64, 64, 128
    layer1 = gates * (embed * hidden + hidden * hidden)
    layer2 = gates * (hidden * hidden + hidden * hidden)
    macs = steps * (layer1 + layer2) + hidden * 4
    count = get_model(name).flops()
    assert count.macs == macs and count.flops == 2 * macs
    assert count.method == "counter+formula"


def test_lstm_counted_on_cpu_where_the_counter_sees_nothing() -> None:
    lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True).eval()
    count = count_flops(lstm, (torch.randn(3, 5, 8),))
    expected = 3 * 5 * 4 * ((8 * 16 + 16 * 16) + (16 * 16 + 16 * 16))
    assert count.macs == expected == recurrent_macs("lstm", 3, 5, 8, 16, num_layers=2)
    assert count.method == "formula"


def test_bidirectional_gru_formula() -> None:
    gru = nn.GRU(8, 16, bidirectional=True).eval()  # (T, B, I) layout
    count = count_flops(gru, (torch.randn(5, 2, 8),))
    assert count.macs == 2 * 5 * 2 * 3 * (8 * 16 + 16 * 16)


class _Attention(nn.Module):
    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v)


def test_fused_attention_counted_by_formula() -> None:
    batch, heads, lq, lk, dim = 2, 4, 10, 12, 8
    q = torch.randn(batch, heads, lq, dim)
    k, v = torch.randn(batch, heads, lk, dim), torch.randn(batch, heads, lk, dim)
    count = count_flops(_Attention(), (q, k, v))
    macs = batch * heads * (lq * lk * dim + lq * lk * dim)
    assert count.macs == macs == attention_macs(batch, heads, lq, lk, dim)
    assert count.flops == 2 * macs


def test_transformer_tiny_flops_match_hand_formula() -> None:
    d, tokens, d_ff, layers = 128, 64, 512, 2
    per_layer = 3 * d * d * tokens + d * d * tokens + 2 * d * d_ff * tokens
    per_layer += 2 * tokens * tokens * d  # Q K^T and the weighted sum of V, over all heads
    macs = layers * per_layer + d * 4
    spec = get_model("transformer-tiny")
    assert spec.flops().macs == macs
    # The same figure on CPU, where attention runs as a fused kernel the counter misses.
    assert count_flops(spec.build(), spec.example_inputs(1)).macs == macs


def test_bert_base_flops_match_hand_formula() -> None:
    d, tokens, d_ff = 768, 128, 3072
    per_layer = 4 * d * d * tokens + 2 * d * d_ff * tokens + 2 * tokens * tokens * d
    macs = 12 * per_layer + d * d  # pooler
    assert get_model("bert-base").flops().macs == macs


def test_resnet18_is_1_814_gmacs_and_3_628_gflops() -> None:
    count = get_model("resnet18").flops()
    assert round(count.macs / 1e9, 3) == 1.814
    assert round(count.flops / 1e9, 3) == 3.628


@pytest.mark.parametrize("spec", list_models(), ids=lambda spec: spec.name)
def test_small_configs_run_forward(spec: ModelSpec) -> None:
    shapes = spec.shapes("small")
    module = spec.build(size="small")
    inputs = spec.example_inputs(2, size="small")
    with torch.no_grad():
        out = module(*inputs)
    assert isinstance(out, torch.Tensor) and out.shape[0] == 2
    if shapes.num_classes is not None:
        assert out.shape == (2, shapes.num_classes)
    assert torch.isfinite(out).all()
    assert spec.params(size="small") == n_params(module)
    assert spec.flops(2, size="small").macs > 0


def test_example_inputs_shapes() -> None:
    assert get_model("resnet18").example_inputs(2)[0].shape == (2, 3, 224, 224)
    (tokens,) = get_model("bert-base").example_inputs(4)
    assert tokens.shape == (4, 128) and tokens.dtype == torch.int64
    encoder, decoder = get_model("t5-small").example_inputs(1)
    assert encoder.shape == (1, 128) and decoder.shape == (1, 32)


def test_seeded_builds_are_reproducible_and_leave_global_rng_alone() -> None:
    spec = get_model("lstm")
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first, second = spec.build(size="small"), spec.build(size="small")
    assert torch.rand(1).item() == before.item()  # build forked the RNG
    for (key, a), (_, b) in zip(
        first.state_dict().items(), second.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), key
    x1, x2 = spec.example_inputs(3, size="small"), spec.example_inputs(3, size="small")
    assert torch.equal(x1[0], x2[0])


def test_weights_path_loads_a_checkpoint(tmp_path: Path) -> None:
    spec = get_model("lenet5")
    trained = spec.build(size="small")
    with torch.no_grad():
        for parameter in trained.parameters():
            parameter.add_(1.0)
    path = tmp_path / "lenet.pt"
    torch.save(trained.state_dict(), path)
    loaded = spec.build(size="small", weights=str(path))
    x = spec.example_inputs(2, size="small")
    with torch.no_grad():
        assert torch.equal(loaded(*x), trained(*x))
    assert not torch.equal(
        loaded.state_dict()["features.0.weight"],
        spec.build(size="small").state_dict()["features.0.weight"],
    )
    wrapped = tmp_path / "wrapped.pt"
    torch.save({"state_dict": trained.state_dict()}, wrapped)
    assert torch.equal(spec.build(size="small", weights=str(wrapped))(*x), trained(*x))


def test_hf_wrapper_accepts_the_inner_models_state_dict(tmp_path: Path) -> None:
    spec = get_model("bert-base")
    source = spec.build(size="small")
    path = tmp_path / "bert.pt"
    inner = source.model  # the HF BertModel's own keys, without the wrapper's prefix
    assert isinstance(inner, nn.Module)
    torch.save(inner.state_dict(), path)
    loaded = spec.build(size="small", weights=str(path))
    assert all(
        torch.equal(a, b)
        for a, b in zip(loaded.state_dict().values(), source.state_dict().values(), strict=True)
    )


def test_mismatched_or_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "mlp.pt"
    torch.save(get_model("mlp").build(size="small").state_dict(), path)
    with pytest.raises(DlradarError, match=r"lenet5: checkpoint .* does not fit .*missing keys"):
        get_model("lenet5").build(size="small", weights=str(path))
    resized = tmp_path / "lenet-wrong.pt"
    state = get_model("lenet5").build().state_dict()
    state["classifier.7.weight"] = torch.zeros(5, 84)
    torch.save(state, resized)
    with pytest.raises(DlradarError, match="shape mismatches"):
        get_model("lenet5").build(weights=str(resized))
    with pytest.raises(DlradarError, match="checkpoint not found"):
        get_model("lenet5").build(weights=str(tmp_path / "absent.pt"))
    garbage = tmp_path / "garbage.pt"
    garbage.write_text("not a checkpoint")
    with pytest.raises(DlradarError, match="cannot read checkpoint"):
        get_model("lenet5").build(weights=str(garbage))


def test_unknown_size_and_misplaced_pretrained_request() -> None:
    with pytest.raises(DlradarError, match="unknown model size"):
        get_model("lenet5").build(size="medium")
    with pytest.raises(DlradarError, match="torchvision models"):
        get_model("lenet5").build(weights="torchvision")
