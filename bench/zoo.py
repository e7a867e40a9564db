"""The model zoo: a registry of reference models, one per entry with family, input and FLOP count.

Every model is built with seeded random weights (no download), in eval mode, and its
forward(*example_inputs(...)) returns one tensor. size="small" builds a tiny configuration of the
same architecture (for tests and quick checks); size="full" is the published network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bench.flops import FlopCount, count_flops
from bench.models import diffusion, gan, gnn, hf, moe, rl, ssm, vae, vision
from bench.models.lenet import LeNet5
from bench.models.mlp import MLP
from bench.models.recurrent import RecurrentClassifier
from bench.models.small_transformer import TransformerClassifier
from core.errors import DlradarError, NotFoundError

__all__ = [
    "BUILD_SEED",
    "SEQUENCE_CLASSES",
    "FlopCount",
    "ModelSpec",
    "Shapes",
    "get_model",
    "list_models",
    "model_names",
]

BUILD_SEED = 0  # weights of every build; inputs use INPUT_SEED
INPUT_SEED = 1
SEQUENCE_CLASSES = 4  # classes of dlradar's sequence task (bench.data.first_signal_task)
SIZES = ("full", "small")


@dataclass(frozen=True)
class Shapes:
    """Input and output shapes of one size of a model."""

    image: tuple[int, int, int] | None = None  # (channels, height, width) for task 'image'
    seq_len: int = 0  # tokens per sequence for task 'sequence'
    vocab_size: int = 0  # token ids are drawn from [0, vocab_size)
    max_len: int = 0  # longest sequence the model accepts (0: unlimited)
    decoder_len: int = 0  # T5 only: decoder tokens
    num_classes: int | None = None  # None: the output is hidden states, not class logits
    nodes: int = 0  # task 'graph': nodes per graph
    edges: int = 0  # task 'graph': directed edges per graph (each undirected edge twice)
    features: int = 0  # task 'graph': features per node
    timesteps: int = 0  # task 'denoise': diffusion steps; timesteps are drawn from [0, timesteps)


@dataclass(frozen=True)
class ModelSpec:
    """One zoo entry: what the model is and how to build it, feed it and count its work."""

    name: str
    family: str  # taxonomy id (core/data/families.toml): cnn, mlp, rnn, ..., gnn, gan, rl
    source: str  # 'dlradar' | 'torchvision' | 'transformers' | 'torch_geometric' | 'diffusers'
    input: str  # human description of the default (full-size) input
    # What forward() takes: 'image' (float (B, C, H, W)), 'sequence' (int64 token ids (B, T)
    # [+ decoder ids]), 'graph' (node features (B, N, F) + edge_index (B, 2, E)), 'noise' (a
    # latent vector (B, nz, 1, 1)), 'denoise' (noisy image (B, C, H, W) + timestep (B,)).
    task: str
    quick: bool  # part of the --quick profile
    published_params: int | None
    full: Shapes = field(repr=False)
    small: Shapes = field(repr=False)
    builder: Callable[[str], nn.Module] = field(repr=False, compare=False)
    description: str = ""
    citation: str = ""  # where published_params comes from
    quick_eval: bool | None = None  # part of `bench eval --quick` (None: same as quick)
    # The ONNX exporters that give a faithful graph of this model, and why others are left out
    # (the note is added to the reason when none succeeds).
    onnx_exporters: tuple[str, ...] = ("dynamo", "torchscript")
    onnx_note: str = ""
    onnx_full_size: bool = True  # False: not even tried at full size (onnx_note says why)

    @property
    def in_quick_eval(self) -> bool:
        return self.quick if self.quick_eval is None else self.quick_eval

    def shapes(self, size: str = "full") -> Shapes:
        """The input/output shapes of `size` ('full' or 'small')."""
        _check_size(size)
        return self.full if size == "full" else self.small

    def build(self, *, size: str = "full", weights: str | None = None) -> nn.Module:
        """Build the model in eval mode: seeded random weights, torchvision's pretrained weights
        (weights='torchvision', torchvision models only) or a state_dict checkpoint (weights=PATH)."""
        _check_size(size)
        if weights == "torchvision":
            module = self._pretrained(size)
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(BUILD_SEED)
                module = self.builder(size)
            if weights is not None:
                load_checkpoint(module, Path(weights), self.name)
        return module.eval()

    def example_inputs(
        self, batch_size: int, *, size: str = "full", device: str | torch.device = "cpu"
    ) -> tuple[torch.Tensor, ...]:
        """Seeded random inputs of the task (see `task`), batch first in every tensor."""
        shapes = self.shapes(size)
        generator = torch.Generator().manual_seed(INPUT_SEED)
        if self.task in ("image", "noise", "denoise"):
            assert shapes.image is not None
            images = torch.randn((batch_size, *shapes.image), generator=generator)
            if self.task == "denoise":
                steps = torch.randint(0, shapes.timesteps, (batch_size,), generator=generator)
                return (images.to(device), steps.to(device))
            return (images.to(device),)
        if self.task == "graph":
            x, edge_index = gnn.random_graph(shapes.nodes, shapes.edges, shapes.features, generator)
            features = torch.randn((batch_size, *x.shape), generator=generator)
            edges = edge_index.unsqueeze(0).expand(batch_size, -1, -1).contiguous()
            return (features.to(device), edges.to(device))
        tokens = torch.randint(
            0, shapes.vocab_size, (batch_size, shapes.seq_len), generator=generator
        )
        if shapes.decoder_len:
            decoder = torch.randint(
                0, shapes.vocab_size, (batch_size, shapes.decoder_len), generator=generator
            )
            return (tokens.to(device), decoder.to(device))
        return (tokens.to(device),)

    def flops(self, batch_size: int = 1, *, size: str = "full") -> FlopCount:
        """MACs and FLOPs of one forward pass at the default input and `batch_size`."""
        return _flops(self.name, batch_size, size)

    def params(self, *, size: str = "full") -> int:
        """Number of parameters (shared tensors counted once, as nn.Module.parameters does)."""
        return _params(self.name, size)

    def _pretrained(self, size: str) -> nn.Module:
        if self.source != "torchvision":
            raise DlradarError(f"{self.name}: weights='torchvision' applies to torchvision models")
        if size != "full":
            raise DlradarError(f"{self.name}: torchvision's pretrained weights exist for size=full")
        try:
            return vision.pretrained(self.name)
        except Exception as error:  # offline: URLError, OSError, ...
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise DlradarError(
                f"{self.name}: could not load torchvision's pretrained weights "
                f"(not cached and download failed: {reason})"
            ) from error


def load_checkpoint(module: nn.Module, path: Path, name: str) -> None:
    """Load a state_dict checkpoint into `module`, raising DlradarError if it is missing or does
    not fit. Accepts a bare state_dict, {'state_dict': ...} / {'model_state_dict': ...}, and for
    the Hugging Face wrappers also the inner model's own state_dict."""
    if not path.is_file():
        raise DlradarError(f"{name}: checkpoint not found: {path}")
    try:
        loaded: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise DlradarError(f"{name}: cannot read checkpoint {path}: {error}") from error
    if isinstance(loaded, dict):
        for key in ("state_dict", "model_state_dict"):
            if isinstance(loaded.get(key), dict):
                loaded = loaded[key]
    if not isinstance(loaded, dict) or not all(
        isinstance(v, torch.Tensor) for v in loaded.values()
    ):
        raise DlradarError(f"{name}: checkpoint {path} is not a state_dict of tensors")
    targets = [module]
    inner = getattr(module, "model", None)
    if isinstance(inner, nn.Module):
        targets.append(inner)
    problems = [_mismatch(target, loaded) for target in targets]
    for target, problem in zip(targets, problems, strict=True):
        if not problem:
            target.load_state_dict(loaded)
            return
    raise DlradarError(f"{name}: checkpoint {path} does not fit the model: {problems[0]}")


def _mismatch(module: nn.Module, state: dict[str, torch.Tensor]) -> str:
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys (e.g. {missing[0]})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})")
    if wrong:
        parts.append(f"{len(wrong)} shape mismatches (e.g. {wrong[0]})")
    return "; ".join(parts)


def _check_size(size: str) -> None:
    if size not in SIZES:
        raise DlradarError(f"unknown model size {size!r}; expected one of {', '.join(SIZES)}")


def _recurrent(kind: str) -> Callable[[str], nn.Module]:
    def build(size: str) -> nn.Module:
        if size == "small":
            return RecurrentClassifier(kind, 32, 16, 16, 1, SEQUENCE_CLASSES)  # type: ignore[arg-type]
        return RecurrentClassifier(kind, 256, 64, 128, 2, SEQUENCE_CLASSES)  # type: ignore[arg-type]

    return build


def _lenet(size: str) -> nn.Module:
    return LeNet5()


def _mlp(size: str) -> nn.Module:
    return MLP(64, [32]) if size == "small" else MLP(784, [512, 256])


def _transformer_tiny(size: str) -> nn.Module:
    if size == "small":
        return TransformerClassifier(32, 64, 32, 2, 64, 1, SEQUENCE_CLASSES)
    return TransformerClassifier(256, 128, 128, 4, 512, 2, SEQUENCE_CLASSES)


def _gcn(size: str) -> nn.Module:
    if size == "small":  # KarateClub: 34 one-hot features, 4 classes
        return gnn.GCN(34, 16, 4)
    return gnn.GCN(CORA_FEATURES, 16, CORA_CLASSES)


def _gat(size: str) -> nn.Module:
    if size == "small":
        return gnn.GAT(34, 8, 2, 4)
    return gnn.GAT(CORA_FEATURES, 8, 8, CORA_CLASSES)


def _seeded_gan(module: nn.Module) -> nn.Module:
    gan.init_weights(module)  # pytorch/examples' initialisation (a no-op on the meta device)
    return module


def _dcgan(size: str) -> nn.Module:
    if size == "small":  # digits-sized: 1 channel, 16x16 (the evaluation's generator)
        return _seeded_gan(gan.Generator(nz=16, ngf=16, nc=1, image_size=16))
    return _seeded_gan(gan.Generator())


def _dcgan_discriminator(size: str) -> nn.Module:
    if size == "small":
        return _seeded_gan(gan.Discriminator(ndf=16, nc=1, image_size=16))
    return _seeded_gan(gan.Discriminator())


def _vae(size: str) -> nn.Module:
    return vae.VAE(64, 32, 8) if size == "small" else vae.VAE()


def _dqn(size: str) -> nn.Module:
    if size == "small":
        return rl.NatureDQN(actions=4, size=36, channels=(8, 16, 16), hidden=32)
    return rl.NatureDQN()


CORA_NODES, CORA_EDGES, CORA_FEATURES, CORA_CLASSES = 2708, 10556, 1433, 7
_CORA = Shapes(nodes=CORA_NODES, edges=CORA_EDGES, features=CORA_FEATURES)
_GRAPH_SMALL = Shapes(nodes=34, edges=156, features=34)  # KarateClub: 34 nodes, 156 edges
_SEQ_FULL = Shapes(seq_len=64, vocab_size=256, num_classes=SEQUENCE_CLASSES)
_SEQ_SMALL = Shapes(seq_len=16, vocab_size=32, num_classes=SEQUENCE_CLASSES)
_IMAGENET = Shapes(image=(3, 224, 224), num_classes=1000)
_TINY_RGB = Shapes(image=(3, 32, 32), num_classes=10)
_HF_SMALL = Shapes(seq_len=16, vocab_size=hf.TINY_VOCAB, max_len=64)


def _registry() -> list[ModelSpec]:
    recurrent = [
        ModelSpec(
            name=kind,
            family=kind,
            source="dlradar",
            input="64 token ids (vocabulary 256)",
            task="sequence",
            quick=True,
            published_params=None,
            full=_SEQ_FULL,
            small=_SEQ_SMALL,
            builder=_recurrent(kind),
            description=f"Embedding 64 -> 2-layer nn.{label}(128) -> last step -> 4 classes",
        )
        for kind, label in (("rnn", "RNN"), ("lstm", "LSTM"), ("gru", "GRU"))
    ]
    return [
        ModelSpec(
            name="lenet5",
            family="cnn",
            source="dlradar",
            input="1x32x32 image",
            task="image",
            quick=True,
            published_params=61_706,
            full=Shapes(image=(1, 32, 32), num_classes=10),
            small=Shapes(image=(1, 32, 32), num_classes=10),
            builder=_lenet,
            description="LeNet-5: conv6-pool-conv16-pool-fc120-fc84-fc10 (ReLU, max pooling)",
        ),
        ModelSpec(
            name="mlp",
            family="mlp",
            source="dlradar",
            input="1x28x28 image (784 features)",
            task="image",
            quick=True,
            published_params=None,
            full=Shapes(image=(1, 28, 28), num_classes=10),
            small=Shapes(image=(1, 8, 8), num_classes=10),
            builder=_mlp,
            description="Multilayer perceptron 784-512-256-10 (ReLU)",
        ),
        *recurrent,
        ModelSpec(
            name="transformer-tiny",
            family="transformer",
            source="dlradar",
            input="64 token ids (vocabulary 256)",
            task="sequence",
            quick=True,
            published_params=None,
            full=Shapes(seq_len=64, vocab_size=256, max_len=128, num_classes=SEQUENCE_CLASSES),
            small=Shapes(seq_len=16, vocab_size=32, max_len=64, num_classes=SEQUENCE_CLASSES),
            builder=_transformer_tiny,
            description="Transformer encoder: d=128, 4 heads, 2 layers, FF 512, mean pool",
        ),
        ModelSpec(
            name="resnet18",
            family="cnn",
            source="torchvision",
            input="3x224x224 image",
            task="image",
            quick=False,
            published_params=11_689_512,
            full=_IMAGENET,
            small=_TINY_RGB,
            builder=vision.build_resnet18,
            description="torchvision ResNet-18",
        ),
        ModelSpec(
            name="resnet50",
            family="cnn",
            source="torchvision",
            input="3x224x224 image",
            task="image",
            quick=False,
            published_params=25_557_032,
            full=_IMAGENET,
            small=_TINY_RGB,
            builder=vision.build_resnet50,
            description="torchvision ResNet-50",
        ),
        ModelSpec(
            name="vgg16",
            family="cnn",
            source="torchvision",
            input="3x224x224 image",
            task="image",
            quick=False,
            published_params=138_357_544,
            full=_IMAGENET,
            small=_TINY_RGB,
            builder=vision.build_vgg16,
            description="torchvision VGG16 (configuration D, no batch norm)",
        ),
        ModelSpec(
            name="bert-base",
            family="transformer",
            source="transformers",
            input="128 token ids",
            task="sequence",
            quick=False,
            published_params=109_482_240,
            full=Shapes(seq_len=128, vocab_size=30522, max_len=512),
            small=_HF_SMALL,
            builder=hf.build_bert,
            description="BERT-base (uncased config) -> pooled output",
        ),
        ModelSpec(
            name="gpt2",
            family="transformer",
            source="transformers",
            input="128 token ids",
            task="sequence",
            quick=False,
            published_params=124_439_808,
            full=Shapes(seq_len=128, vocab_size=50257, max_len=1024),
            small=_HF_SMALL,
            builder=hf.build_gpt2,
            description="GPT-2 small (124M) -> last hidden state",
        ),
        ModelSpec(
            name="t5-small",
            family="transformer",
            source="transformers",
            input="128 encoder + 32 decoder token ids",
            task="sequence",
            quick=False,
            published_params=60_506_624,
            full=Shapes(seq_len=128, vocab_size=32128, decoder_len=32),
            small=Shapes(seq_len=16, vocab_size=hf.TINY_VOCAB, decoder_len=4),
            builder=hf.build_t5,
            description="T5-small encoder-decoder (eager attention) -> decoder hidden state",
        ),
        *_families_beyond_the_first(),
    ]


def _families_beyond_the_first() -> list[ModelSpec]:
    """One reference network per further family, each at its published size (issue #17)."""
    return [
        ModelSpec(
            name="vit-b-16",
            family="transformer",
            source="torchvision",
            input="3x224x224 image (16x16 patches)",
            task="image",
            quick=False,
            published_params=86_567_656,
            citation="Dosovitskiy et al. 2021 (ViT-Base, 86M); torchvision vit_b_16: 86,567,656",
            full=_IMAGENET,
            small=_TINY_RGB,
            builder=vision.build_vit_b_16,
            description="torchvision ViT-B/16: 12 layers, width 768, 12 heads, MLP 3072",
        ),
        ModelSpec(
            name="gcn",
            family="gnn",
            source="torch_geometric",
            input="graph of Cora's size: 2708 nodes x 1433 features, 10556 edges",
            task="graph",
            quick=True,
            published_params=23_063,
            citation="Kipf & Welling 2017, GCN on Cora (1433-16-7): 1433x16+16 + 16x7+7 = 23,063",
            full=_CORA,
            small=_GRAPH_SMALL,
            builder=_gcn,
            description="2-layer GCN (GCNConv 1433-16-7, ReLU, dropout 0.5); sparse "
            "aggregation counted by formula: (E + N) x out MACs per layer",
        ),
        ModelSpec(
            name="gat",
            family="gnn",
            source="torch_geometric",
            input="graph of Cora's size: 2708 nodes x 1433 features, 10556 edges",
            task="graph",
            quick=True,
            published_params=92_373,
            citation="Velickovic et al. 2018, GAT on Cora (8 heads x 8 hidden, 1 output head)",
            full=_CORA,
            small=_GRAPH_SMALL,
            builder=_gat,
            description="2-layer GAT (GATConv 8 heads x 8, ELU, 1 output head); attention "
            "logits and sparse aggregation counted by formula",
            quick_eval=False,
        ),
        ModelSpec(
            name="dcgan",
            family="gan",
            source="dlradar",
            input="latent vector z of 100 (100x1x1)",
            task="noise",
            quick=True,
            published_params=3_576_704,
            citation="Radford et al. 2016; pytorch/examples dcgan Generator (nz 100, ngf 64, "
            "64x64 RGB): 3,576,704",
            full=Shapes(image=(100, 1, 1)),
            small=Shapes(image=(16, 1, 1)),
            builder=_dcgan,
            description="DCGAN generator: z -> 4 transposed convolutions with batch norm -> "
            "3x64x64 tanh image",
        ),
        ModelSpec(
            name="dcgan-discriminator",
            family="gan",
            source="dlradar",
            input="3x64x64 image",
            task="image",
            quick=True,
            published_params=2_765_568,
            citation="Radford et al. 2016; pytorch/examples dcgan Discriminator (ndf 64, "
            "64x64 RGB): 2,765,568",
            full=Shapes(image=(3, 64, 64)),
            small=Shapes(image=(1, 16, 16)),
            builder=_dcgan_discriminator,
            description="DCGAN discriminator: 4 stride-2 convolutions (LeakyReLU) -> P(real)",
            quick_eval=False,
        ),
        ModelSpec(
            name="vae",
            family="vae",
            source="dlradar",
            input="1x28x28 image (784 features)",
            task="image",
            quick=True,
            published_params=652_824,
            citation="Kingma & Welling 2014; pytorch/examples vae (784-400-20): 652,824",
            full=Shapes(image=(1, 28, 28)),
            small=Shapes(image=(1, 8, 8)),
            builder=_vae,
            description="VAE 784-400-(20 mean, 20 log-variance)-400-784; eval mode decodes "
            "the posterior mean",
        ),
        ModelSpec(
            name="ddpm-unet",
            family="diffusion",
            source="diffusers",
            input="noisy 3x32x32 image + timestep",
            task="denoise",
            quick=False,
            published_params=35_746_307,
            citation="Ho et al. 2020; diffusers UNet2DModel, google/ddpm-cifar10-32 config: "
            "35,746,307",
            full=Shapes(image=(3, 32, 32), timesteps=diffusion.DDPM_STEPS),
            small=Shapes(image=(1, 8, 8), timesteps=diffusion.DDPM_STEPS),
            builder=diffusion.build_ddpm,
            description="DDPM CIFAR-10 UNet: 4 resolutions (128-256-256-256), attention at "
            "16x16, predicts the noise",
            quick_eval=True,
        ),
        ModelSpec(
            name="mamba-130m",
            family="ssm",
            source="transformers",
            input="128 token ids",
            task="sequence",
            quick=False,
            published_params=129_135_360,
            citation="Gu & Dao 2023; transformers MambaForCausalLM, state-spaces/mamba-130m-hf "
            "config (tied head): 129,135,360",
            full=Shapes(seq_len=128, vocab_size=50280),
            small=Shapes(seq_len=8, vocab_size=ssm.SMALL_VOCAB),
            builder=ssm.build_mamba,
            description="Mamba: 24 selective-SSM layers, d 768, state 16 -> next-token logits; "
            "the sequential scan counted by formula (2 x d_inner x state MACs per step)",
            quick_eval=True,
            onnx_full_size=False,
            onnx_note="without the CUDA kernels the selective scan is a Python loop over time "
            "steps, which the exporters unroll: 24 layers x 128 steps did not finish exporting "
            "in 25 minutes on a 2-core machine (the small variant, 2 layers x 8 steps, exports "
            "with parity, for its one sequence length)",
        ),
        ModelSpec(
            name="switch-base-8",
            family="moe",
            source="transformers",
            input="128 encoder + 32 decoder token ids",
            task="sequence",
            quick=False,
            published_params=619_339_008,
            citation="Fedus et al. 2022; transformers SwitchTransformersModel, google/switch-"
            "base-8 config (tied head): 619,339,008 (model card: 620M)",
            full=Shapes(seq_len=128, vocab_size=32128, decoder_len=32),
            small=Shapes(seq_len=16, vocab_size=moe.SMALL_VOCAB, decoder_len=4),
            builder=moe.build_switch,
            description="Switch Transformer: T5-base with 8 top-1 routed experts in every "
            "second feed-forward layer -> decoder hidden state; experts counted as routed",
            quick_eval=True,
            onnx_exporters=("dynamo",),
            onnx_note="data-dependent top-1 expert routing: the TorchScript tracer would freeze "
            "the example input's routing (ONNX Runtime then fails on other inputs), so only "
            "torch.export is tried",
        ),
        ModelSpec(
            name="dqn",
            family="rl",
            source="dlradar",
            input="4 stacked 84x84 frames",
            task="image",
            quick=True,
            published_params=1_693_362,
            citation="Mnih et al. 2015 (Nature), DQN for 18 Atari actions: 1,693,362",
            full=Shapes(image=(4, 84, 84), num_classes=18),
            small=Shapes(image=(4, 36, 36), num_classes=4),
            builder=_dqn,
            description="Nature DQN: conv 32x8/4, 64x4/2, 64x3/1, fc 512 -> 18 Q-values",
        ),
    ]


_MODELS = {spec.name: spec for spec in _registry()}


def list_models() -> list[ModelSpec]:
    """Every model of the zoo, small ones first."""
    return list(_MODELS.values())


def model_names() -> list[str]:
    """The names of every model, in registry order."""
    return list(_MODELS)


def get_model(name: str) -> ModelSpec:
    """The zoo entry called `name`; NotFoundError naming the known models otherwise."""
    try:
        return _MODELS[name]
    except KeyError:
        raise NotFoundError(f"unknown model {name!r}; known models: {', '.join(_MODELS)}") from None


@cache
def _params(name: str, size: str) -> int:
    spec = get_model(name)
    # Building on the meta device allocates nothing, so even VGG16 counts in milliseconds.
    with torch.device("meta"):
        module = spec.builder(size)
    return sum(p.numel() for p in module.parameters())


@cache
def _flops(name: str, batch_size: int, size: str) -> FlopCount:
    spec = get_model(name)
    try:
        with torch.device("meta"):
            module = spec.builder(size).eval()
            inputs = spec.example_inputs(batch_size, size=size, device="meta")
            return count_flops(module, inputs)
    except Exception:
        module = spec.build(size=size)
        return count_flops(module, spec.example_inputs(batch_size, size=size))
