"""Names the benchmark options accept, kept apart from the modules that import torch."""

BACKENDS = ("torch", "torch-compile", "onnxruntime")
DEVICES = ("cpu", "cuda")
