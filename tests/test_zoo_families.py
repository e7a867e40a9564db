"""Reference models of every family (issue #17): published parameter counts at full size, small
variants that run, count their work and export to ONNX with parity (or say why they cannot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from bench.onnx_export import ExportError, check_parity, create_session
from bench.reference import CANONICAL_MODELS
from bench.runner import export_model
from bench.threads import ThreadSettings
from bench.timing import ort_call, ort_feed
from bench.zoo import get_model, list_models
from core.families import families as taxonomy_families
from dashboard.radar import ReferenceConfig, headline

torch.set_num_threads(1)

# name -> (family, published parameter count); each spec cites its source beside the count.
REFERENCE = {
    "vit-b-16": ("transformer", 86_567_656),
    "gcn": ("gnn", 23_063),
    "gat": ("gnn", 92_373),
    "dcgan": ("gan", 3_576_704),
    "dcgan-discriminator": ("gan", 2_765_568),
    "vae": ("vae", 652_824),
    "ddpm-unet": ("diffusion", 35_746_307),
    "mamba-130m": ("ssm", 129_135_360),
    "switch-base-8": ("moe", 619_339_008),
    "dqn": ("rl", 1_693_362),
}
# Cheap enough to build for real at full size (the others are counted on the meta device).
REAL_BUILD = ["gcn", "gat", "dcgan", "dcgan-discriminator", "vae", "dqn"]


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_full_size_has_the_published_count(name: str) -> None:
    family, count = REFERENCE[name]
    spec = get_model(name)
    assert spec.family == family
    assert spec.published_params == count
    assert spec.params() == count  # built full-size on the meta device
    assert spec.citation  # the source of the count, beside it in the zoo


@pytest.mark.parametrize("name", REAL_BUILD)
def test_real_full_build_has_the_published_count(name: str) -> None:
    module = get_model(name).build()
    assert n_params(module) == REFERENCE[name][1]
    assert not module.training


def test_every_family_has_a_model_and_a_canonical_one() -> None:
    families = set(taxonomy_families())
    zoo = {spec.name: spec.family for spec in list_models()}
    assert set(zoo.values()) == families
    assert set(CANONICAL_MODELS) == families
    for family, model in CANONICAL_MODELS.items():
        assert zoo.get(model) == family, (family, model)


def test_inputs_are_those_of_each_family() -> None:
    x, edges = get_model("gcn").example_inputs(2)
    assert x.shape == (2, 2708, 1433) and edges.shape == (2, 2, 10556)
    assert edges.dtype == torch.int64 and int(edges.max()) < 2708
    (z,) = get_model("dcgan").example_inputs(3)
    assert z.shape == (3, 100, 1, 1)
    noisy, steps = get_model("ddpm-unet").example_inputs(2)
    assert noisy.shape == (2, 3, 32, 32) and steps.shape == (2,) and steps.dtype == torch.int64
    (frames,) = get_model("dqn").example_inputs(1)
    assert frames.shape == (1, 4, 84, 84)
    (tokens,) = get_model("mamba-130m").example_inputs(1)
    assert tokens.shape == (1, 128) and tokens.dtype == torch.int64
    assert len(get_model("switch-base-8").example_inputs(1)) == 2


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_small_variant_runs_and_counts_its_work(name: str) -> None:
    spec = get_model(name)
    module = spec.build(size="small")
    inputs = spec.example_inputs(2, size="small")
    with torch.no_grad():
        out = module(*inputs)
    assert out.shape[0] == 2 and torch.isfinite(out).all()
    count = spec.flops(2, size="small")
    assert count.macs > 0 and count.flops == 2 * count.macs


def test_gcn_counts_its_message_passing_by_formula() -> None:
    spec = get_model("gcn")
    count = spec.flops(1)
    dense = 2708 * 1433 * 16 + 2708 * 16 * 7
    messages = (10556 + 2708) * (16 + 7)
    assert count.method == "counter+formula"
    assert count.macs == dense + messages


def test_mamba_counts_its_scan_by_formula() -> None:
    spec = get_model("mamba-130m")
    module = spec.build(size="small")
    (tokens,) = spec.example_inputs(1, size="small")
    config = module.model.config  # type: ignore[union-attr]
    scan = 2 * config.num_hidden_layers * 8 * config.intermediate_size * config.state_size
    assert module.uncounted_macs(tokens) == scan  # type: ignore[operator]
    assert spec.flops(1, size="small").method == "counter+formula"


# Small variants: export, then ONNX Runtime at two batch sizes against PyTorch; or a stated reason.
EXPORTS = ["vit-b-16", "gcn", "gat", "dcgan", "dcgan-discriminator", "vae", "ddpm-unet",
           "mamba-130m", "dqn"]  # fmt: skip
NO_ONNX = {"switch-base-8": "data-dependent top-1 expert routing"}


@pytest.mark.parametrize("name", EXPORTS)
def test_small_variant_exports_with_parity(name: str, tmp_path: Path) -> None:
    spec = get_model(name)
    model = spec.build(size="small")
    exported = export_model(spec, model, spec.example_inputs(2, size="small"), tmp_path / "m.onnx")
    session = create_session(exported.path, ThreadSettings(1, 1), "cpu")
    for batch in (1, 3):
        inputs = spec.example_inputs(batch, size="small")
        with torch.no_grad():
            reference = model(*inputs)
        outputs = ort_call(session, ort_feed(session, inputs))()
        assert check_parity(reference, outputs[0]).ok, (name, batch)


@pytest.mark.parametrize("name", sorted(NO_ONNX))
def test_no_onnx_export_states_the_reason(name: str, tmp_path: Path) -> None:
    spec = get_model(name)
    model = spec.build(size="small")
    with pytest.raises(ExportError) as caught:
        export_model(spec, model, spec.example_inputs(2, size="small"), tmp_path / "m.onnx")
    message = str(caught.value)
    assert message.startswith("ONNX export failed; dynamo: ")  # the exporter's own reason
    assert NO_ONNX[name] in message  # and why no other exporter is tried


def test_radar_says_no_onnx_with_the_exporters_reason() -> None:
    failure = {
        "model": "switch-base-8", "backend": "onnxruntime", "device": "cpu", "batch_size": 1,
        "threads": 1, "size": "full", "status": "failed", "stage": "export",
        "error": "ONNX export failed; dynamo: TorchExportError: ...; data-dependent routing",
        "run_id": 1,
    }  # fmt: skip
    row: Any = {"canonical_model": "switch-base-8", "results": [], "failures": [failure]}
    head = headline(row, ReferenceConfig(), "onnxruntime")
    assert head.result is None
    assert head.why == f"no ONNX: {failure['error']}"


def test_mamba_is_not_exported_at_full_size_and_says_why(tmp_path: Path) -> None:
    spec = get_model("mamba-130m")
    tiny = nn.Linear(1, 1)  # never reached: the refusal comes first
    with pytest.raises(ExportError, match=r"not tried at full size: .*selective scan"):
        export_model(spec, tiny, (torch.zeros(2, 1),), tmp_path / "m.onnx", "full")
