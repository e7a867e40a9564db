"""Names the benchmark options accept, kept apart from the modules that import torch."""

BACKENDS = ("torch", "torch-compile", "onnxruntime")
DEVICES = ("cpu", "cuda")
PROFILES = ("quick", "full")  # bench.runner.profile_config builds each
