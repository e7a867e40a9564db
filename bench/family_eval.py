"""Evaluation tasks of the families whose models are not classifiers of one input tensor.

Each task trains a family's zoo model briefly, offline, on packaged or generated data, and
scores it with the metric that means something for the family, against a stated pass level:

| family    | data                                   | metric (pass level)                              |
|-----------|----------------------------------------|--------------------------------------------------|
| gnn       | torch_geometric KarateClub (34 nodes,  | node accuracy of the 30 unlabelled nodes (>= 0.7)|
|           | 4 labelled, Kipf & Welling's setting)  |                                                  |
| vae       | scikit-learn digits (8x8 in [0, 1])    | test negative ELBO, nats per image (below the    |
|           |                                        | independent-pixel model's NLL)                   |
| diffusion | scikit-learn digits (8x8 in [-1, 1])   | test denoising loss: MSE of the predicted noise  |
|           |                                        | over all 1000 DDPM steps (<= 0.2; 1.0 = none)    |
| gan       | scikit-learn digits (16x16 in [-1, 1]) | MMD^2 of 8x8 samples to the test digits (RBF;    |
|           |                                        | at most a third of the untrained generator's)    |
| ssm, moe  | generated "repeat" sequences: a random | perplexity of the predictable tokens (<= 1.5;    |
|           | pattern of 5 tokens, repeated          | chance is the vocabulary, 1.0 is perfect)        |
| rl        | gymnasium CartPole-v1                  | mean return of 10 greedy episodes (>= 195)       |

Every task records learning curves (one point per epoch, or per 1,000 environment steps for rl)
in the fields the classifier evaluation uses (train_loss, val_loss, ...; accuracies None where
there are none), and a fit flag: 'good' when the pass level is reached, else 'underfitting'.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench import data
from bench.models import rl
from bench.zoo import ModelSpec
from core.errors import DlradarError

Progress = Callable[[str], None]

REPEAT_PATTERN = 5  # tokens of the pattern that the "repeat" sequences repeat
REPEAT_LENGTH = 16  # tokens per sequence (the ssm's small input length)
REPEAT_FIRST_TOKEN = 2  # pattern tokens are drawn from [2, vocab); 0 and 1 are reserved


@dataclass(frozen=True)
class TaskConfig:
    """The shared options of `bench eval` that the family tasks honour."""

    seed: int = 0
    size: str = "small"
    epochs: int | None = None  # None: the task's own default
    lr: float | None = None
    batch_size: int = 64
    time_budget_s: float | None = None


@dataclass
class FamilyResult:
    """What one family task measured; to_dict() is what `bench eval` stores as eval metrics."""

    model: str
    family: str
    size: str
    dataset: str
    task: str
    quality_metric: str
    quality: float
    higher_is_better: bool
    pass_level: float
    passed: bool
    params: int
    curves: list[dict[str, Any]]
    fit: str
    fit_reason: str
    timings_s: dict[str, float]
    config: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    accuracy: float | None = None  # classification tasks (gnn) only
    stopped_early: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainedTask:
    """The trained model (eval mode, the zoo's forward) with example inputs for the ONNX check."""

    model: nn.Module
    example: tuple[torch.Tensor, ...]
    result: FamilyResult


@dataclass(frozen=True)
class Task:
    name: str
    dataset: str
    metric: str
    higher_is_better: bool
    epochs: int
    lr: float
    run: Callable[[ModelSpec, TaskConfig, Progress | None], TrainedTask]


def _point(
    epoch: int,
    train_loss: float,
    val_loss: float | None,
    seconds: float,
    train_accuracy: float | None = None,
    val_accuracy: float | None = None,
    **extra: float | None,
) -> dict[str, Any]:
    return {
        "epoch": epoch,
        "train_loss": train_loss,
        "train_accuracy": train_accuracy,
        "val_loss": val_loss,
        "val_accuracy": val_accuracy,
        "seconds": seconds,
        **extra,
    }


class _Clock:
    """Training time and the optional budget (checked between epochs)."""

    def __init__(self, budget: float | None) -> None:
        self.start = time.perf_counter()
        self.deadline = None if budget is None else self.start + budget
        self.stopped: str | None = None

    def over(self, epoch: int, epochs: int, budget: float | None) -> bool:
        if self.deadline is not None and time.perf_counter() >= self.deadline and epoch < epochs:
            self.stopped = f"time budget of {budget:g} s reached in epoch {epoch}"
            return True
        return False


def _finish(
    spec: ModelSpec,
    config: TaskConfig,
    task: Task,
    model: nn.Module,
    quality: float,
    pass_level: float,
    curves: list[dict[str, Any]],
    timings: dict[str, float],
    clock: _Clock,
    details: dict[str, Any],
    accuracy: float | None = None,
    params: int | None = None,
) -> FamilyResult:
    passed = quality >= pass_level if task.higher_is_better else quality <= pass_level
    relation = ">=" if task.higher_is_better else "<="
    verdict = "reached" if passed else "not reached"
    reason = f"{task.metric} {quality:.4g}: pass level {relation} {pass_level:.4g} {verdict}"
    if clock.stopped:
        reason += f"; {clock.stopped}"
    return FamilyResult(
        model=spec.name,
        family=spec.family,
        size=config.size,
        dataset=task.dataset,
        task=task.name,
        quality_metric=task.metric,
        quality=float(quality),
        higher_is_better=task.higher_is_better,
        pass_level=float(pass_level),
        passed=bool(passed),
        params=params if params is not None else sum(p.numel() for p in model.parameters()),
        curves=curves,
        fit="good" if passed else "underfitting",
        fit_reason=reason,
        timings_s=timings,
        config={
            **asdict(config),
            "epochs": config.epochs or task.epochs,
            "lr": config.lr or task.lr,
            "threads": torch.get_num_threads(),
        },
        details=details,
        accuracy=accuracy,
        stopped_early=clock.stopped,
    )


def _fit_minibatches(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train: torch.Tensor,
    loss_of: Callable[[torch.Tensor], torch.Tensor],
    evaluate: Callable[[], tuple[float, dict[str, float]]],
    *,
    epochs: int,
    config: TaskConfig,
    generator: torch.Generator,
    clock: _Clock,
) -> list[dict[str, Any]]:
    """Shuffled mini-batch epochs of `loss_of` (seeded), a learning-curve point after each from
    `evaluate` (validation loss, extra fields); stops early when the time budget is spent."""
    curves = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        for epoch in range(1, epochs + 1):
            tick = time.perf_counter()
            model.train()
            order = torch.randperm(len(train), generator=generator)
            total = 0.0
            for start in range(0, len(order), config.batch_size):
                batch = train[order[start : start + config.batch_size]]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_of(batch)
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
                total += loss.item() * len(batch)
            val_loss, extra = evaluate()
            curves.append(
                _point(epoch, total / len(train), val_loss, time.perf_counter() - tick, **extra)
            )
            if clock.over(epoch, epochs, config.time_budget_s):
                break
    return curves


def _optimizer(model: nn.Module, lr: float, **options: Any) -> torch.optim.Optimizer:
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr, **options)


# --- gnn: KarateClub node classification ----------------------------------------------------


def _gnn(spec: ModelSpec, config: TaskConfig, progress: Progress | None) -> TrainedTask:
    from torch_geometric.datasets import KarateClub

    task = TASKS["gnn"]
    started = time.perf_counter()
    graph = KarateClub()[0]
    x = graph.x.unsqueeze(0)  # (1, 34, 34): one-hot node identities, as in Kipf & Welling
    edges = graph.edge_index.unsqueeze(0)
    labels = graph.y
    train_mask = graph.train_mask  # one labelled node per class
    test_mask = ~train_mask
    model = spec.build(size=config.size)
    optimizer = _optimizer(model, config.lr or task.lr, weight_decay=5e-4)
    epochs = config.epochs or task.epochs
    built = time.perf_counter()
    clock = _Clock(config.time_budget_s)
    curves = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        for epoch in range(1, epochs + 1):
            tick = time.perf_counter()
            model.train()
            optimizer.zero_grad(set_to_none=True)
            logits = model(x, edges)[0]
            loss = F.cross_entropy(logits[train_mask], labels[train_mask])
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            model.eval()
            with torch.no_grad():
                out = model(x, edges)[0]
                val_loss = float(F.cross_entropy(out[test_mask], labels[test_mask]))
                predicted = out.argmax(1)
            train_acc = float((predicted[train_mask] == labels[train_mask]).float().mean())
            val_acc = float((predicted[test_mask] == labels[test_mask]).float().mean())
            if epoch % 10 == 0 or epoch == epochs:
                curves.append(
                    _point(epoch, loss.item(), val_loss, time.perf_counter() - tick, train_acc,
                           val_acc)
                )  # fmt: skip
            if clock.over(epoch, epochs, config.time_budget_s):
                break
    trained = time.perf_counter()
    model.eval()
    with torch.no_grad():
        predicted = model(x, edges)[0].argmax(1)
    accuracy = float((predicted[test_mask] == labels[test_mask]).float().mean())
    if progress:
        progress(f"{spec.name}: KarateClub node accuracy {accuracy:.3f}")
    timings = {"data": 0.0, "build": built - started, "train": trained - built}
    result = _finish(
        spec, config, task, model, accuracy, 0.7, curves, timings, clock,
        {"labelled_nodes": int(train_mask.sum()), "test_nodes": int(test_mask.sum())},
        accuracy=accuracy,
    )  # fmt: skip
    return TrainedTask(model.eval(), (x.expand(2, -1, -1), edges.expand(2, -1, -1)), result)


# --- vae: ELBO on digits ----------------------------------------------------------------------


def _digits01(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Digits as (N, 1, 8, 8) in [0, 1]: the training and the test split (80/20, seeded)."""
    images, labels = data.digits_images(1, 8, 8)
    split = data.split(
        (images + 1) / 2, labels, val_fraction=0.1, test_fraction=0.2, seed=seed,
        num_classes=data.DIGIT_CLASSES, name="digits",
    )  # fmt: skip
    return torch.cat([split.train_x, split.val_x]), split.test_x


def _vae(spec: ModelSpec, config: TaskConfig, progress: Progress | None) -> TrainedTask:
    task = TASKS["vae"]
    started = time.perf_counter()
    train_x, test_x = _digits01(config.seed)
    # The independent-pixel model: each pixel a Bernoulli of its training mean (its NLL).
    mean = train_x.mean(0, keepdim=True).clamp(1e-3, 1 - 1e-3).expand_as(test_x)
    baseline = float(F.binary_cross_entropy(mean, test_x, reduction="sum")) / len(test_x)
    model = spec.build(size=config.size)
    vae_model: Any = model
    elbo_terms = vae_model.elbo_terms
    optimizer = _optimizer(model, config.lr or task.lr)
    epochs = config.epochs or task.epochs
    built = time.perf_counter()
    clock = _Clock(config.time_budget_s)
    generator = torch.Generator().manual_seed(config.seed)

    def test_nelbo() -> tuple[float, float]:
        model.eval()
        with torch.no_grad():
            _, bce, kld = elbo_terms(test_x)
        return float((bce + kld).mean()), float(bce.mean())

    def train_nelbo(batch: torch.Tensor) -> torch.Tensor:
        _, bce, kld = elbo_terms(batch)
        loss: torch.Tensor = (bce + kld).mean()
        return loss

    curves = _fit_minibatches(
        model, optimizer, train_x, train_nelbo, lambda: (test_nelbo()[0], {}),
        epochs=epochs, config=config, generator=generator, clock=clock,
    )  # fmt: skip
    trained = time.perf_counter()
    nelbo, reconstruction = test_nelbo()
    if progress:
        progress(f"{spec.name}: test -ELBO {nelbo:.2f} nats (independent pixels {baseline:.2f})")
    timings = {"data": 0.0, "build": built - started, "train": trained - built}
    result = _finish(
        spec, config, task, model, nelbo, baseline, curves, timings, clock,
        {"reconstruction_bce_nats": reconstruction, "independent_pixel_nll_nats": baseline},
    )  # fmt: skip
    return TrainedTask(model.eval(), (test_x[:2],), result)


# --- diffusion: DDPM denoising loss on digits -------------------------------------------------


def _diffusion(spec: ModelSpec, config: TaskConfig, progress: Progress | None) -> TrainedTask:
    task = TASKS["diffusion"]
    started = time.perf_counter()
    train_x, test_x = _digits01(config.seed)
    train_x, test_x = train_x * 2 - 1, test_x * 2 - 1  # DDPM's data range
    steps = spec.shapes(config.size).timesteps
    betas = torch.linspace(1e-4, 0.02, steps)  # Ho et al.'s linear schedule
    alpha_bar = torch.cumprod(1 - betas, 0)
    model = spec.build(size=config.size)
    optimizer = _optimizer(model, config.lr or task.lr)
    epochs = config.epochs or task.epochs
    built = time.perf_counter()
    clock = _Clock(config.time_budget_s)
    generator = torch.Generator().manual_seed(config.seed)
    # The test loss uses one fixed draw of timesteps and noise per test image.
    test_gen = torch.Generator().manual_seed(config.seed + 1)
    test_t = torch.randint(0, steps, (len(test_x),), generator=test_gen)
    test_noise = torch.randn(test_x.shape, generator=test_gen)

    def noisy(x: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        scale = alpha_bar[t].view(-1, 1, 1, 1)
        return scale.sqrt() * x + (1 - scale).sqrt() * noise

    def test_loss() -> float:
        model.eval()
        with torch.no_grad():
            losses = [
                F.mse_loss(
                    model(
                        noisy(test_x[i : i + 128], test_t[i : i + 128], test_noise[i : i + 128]),
                        test_t[i : i + 128],
                    ),
                    test_noise[i : i + 128],
                    reduction="sum",
                )
                for i in range(0, len(test_x), 128)
            ]
        return float(sum(losses)) / test_noise.numel()

    def denoising_loss(batch: torch.Tensor) -> torch.Tensor:
        t = torch.randint(0, steps, (len(batch),), generator=generator)
        noise = torch.randn(batch.shape, generator=generator)
        return F.mse_loss(model(noisy(batch, t, noise), t), noise)

    curves = _fit_minibatches(
        model, optimizer, train_x, denoising_loss, lambda: (test_loss(), {}),
        epochs=epochs, config=config, generator=generator, clock=clock,
    )  # fmt: skip
    trained = time.perf_counter()
    final = test_loss()
    if progress:
        progress(f"{spec.name}: test denoising loss {final:.4f} (predicting no noise: 1.0)")
    timings = {"data": 0.0, "build": built - started, "train": trained - built}
    result = _finish(
        spec, config, task, model, final, 0.2, curves, timings, clock,
        {"diffusion_steps": steps, "schedule": "linear betas 1e-4..0.02"},
    )  # fmt: skip
    example = (noisy(test_x[:2], test_t[:2], test_noise[:2]), test_t[:2])
    return TrainedTask(model.eval(), example, result)


# --- gan: DCGAN on digits, MMD to the test digits ---------------------------------------------


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidth: float) -> float:
    """Squared maximum mean discrepancy with an RBF kernel (biased estimate) of (N, D), (M, D)."""

    def kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.exp(-torch.cdist(a, b).pow(2) / (2 * bandwidth**2))

    return float(kernel(x, x).mean() + kernel(y, y).mean() - 2 * kernel(x, y).mean())


def _gan(spec: ModelSpec, config: TaskConfig, progress: Progress | None) -> TrainedTask:
    from bench.zoo import get_model

    task = TASKS["gan"]
    started = time.perf_counter()
    train_x, test_x = _digits01(config.seed)
    side = 16
    real = F.interpolate(train_x, size=(side, side), mode="bilinear", align_corners=False) * 2 - 1
    test_flat = test_x.flatten(1)
    bandwidth = float(torch.cdist(test_flat, test_flat).median())
    generator_net = spec.build(size=config.size)
    discriminator = get_model("dcgan-discriminator").build(size=config.size)
    nz = spec.shapes(config.size).image[0]  # type: ignore[index]
    lr = config.lr or task.lr
    opt_g = _optimizer(generator_net, lr, betas=(0.5, 0.999))
    opt_d = _optimizer(discriminator, lr, betas=(0.5, 0.999))
    epochs = config.epochs or task.epochs
    rng = torch.Generator().manual_seed(config.seed)
    fixed_z = torch.randn(len(test_x), nz, 1, 1, generator=torch.Generator().manual_seed(7))

    def sample_mmd() -> float:
        generator_net.eval()
        with torch.no_grad():
            fake = generator_net(fixed_z)
        small = F.interpolate((fake + 1) / 2, size=(8, 8), mode="bilinear", align_corners=False)
        return mmd2(small.flatten(1), test_flat, bandwidth)

    untrained = sample_mmd()
    built = time.perf_counter()
    clock = _Clock(config.time_budget_s)
    curves = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        for epoch in range(1, epochs + 1):
            tick = time.perf_counter()
            generator_net.train()
            discriminator.train()
            order = torch.randperm(len(real), generator=rng)
            total_d = total_g = 0.0
            batches = 0
            for start in range(0, len(order), config.batch_size):
                batch = real[order[start : start + config.batch_size]]
                z = torch.randn(len(batch), nz, 1, 1, generator=rng)
                fake = generator_net(z)
                opt_d.zero_grad(set_to_none=True)
                p_real, p_fake = discriminator(batch), discriminator(fake.detach())
                loss_d = F.binary_cross_entropy(p_real, torch.ones_like(p_real)) + (
                    F.binary_cross_entropy(p_fake, torch.zeros_like(p_fake))
                )
                loss_d.backward()  # type: ignore[no-untyped-call]
                opt_d.step()
                opt_g.zero_grad(set_to_none=True)
                p_fake = discriminator(fake)
                loss_g = F.binary_cross_entropy(p_fake, torch.ones_like(p_fake))
                loss_g.backward()  # type: ignore[no-untyped-call]
                opt_g.step()
                total_d += loss_d.item()
                total_g += loss_g.item()
                batches += 1
            curves.append(
                _point(epoch, total_g / batches, sample_mmd(), time.perf_counter() - tick,
                       discriminator_loss=total_d / batches)
            )  # fmt: skip
            if clock.over(epoch, epochs, config.time_budget_s):
                break
    trained = time.perf_counter()
    quality = sample_mmd()
    floor = mmd2(train_x[: len(test_x)].flatten(1), test_flat, bandwidth)
    if progress:
        progress(
            f"{spec.name}: MMD^2 to test digits {quality:.4f} (untrained {untrained:.4f},"
            f" real train digits {floor:.4f})"
        )
    timings = {"data": 0.0, "build": built - started, "train": trained - built}
    result = _finish(
        spec, config, task, generator_net, quality, untrained / 3, curves, timings, clock,
        {"untrained_mmd2": untrained, "real_digits_mmd2": floor, "bandwidth": bandwidth,
         "samples": len(test_x), "loss_curves": "train_loss: generator, val_loss: MMD^2"},
    )  # fmt: skip
    return TrainedTask(generator_net.eval(), (fixed_z[:2],), result)


# --- ssm and moe: perplexity of the predictable tokens of "repeat" sequences ------------------


def repeat_task(
    samples: int, length: int, vocab: int, *, seed: int, pattern: int = REPEAT_PATTERN
) -> torch.Tensor:
    """Sequences (samples, length): a random pattern of `pattern` tokens from
    [REPEAT_FIRST_TOKEN, vocab), repeated. After the first period every token is determined."""
    rng = np.random.default_rng(seed)
    patterns = rng.integers(REPEAT_FIRST_TOKEN, vocab, size=(samples, pattern))
    reps = -(-length // pattern)
    return torch.tensor(np.tile(patterns, (1, reps))[:, :length], dtype=torch.int64)


def _sequence_lm(spec: ModelSpec, config: TaskConfig, progress: Progress | None) -> TrainedTask:
    task = TASKS[spec.family]
    started = time.perf_counter()
    shapes = spec.shapes(config.size)
    vocab = shapes.vocab_size
    seq2seq = shapes.decoder_len > 0
    train = repeat_task(2000, REPEAT_LENGTH, vocab, seed=config.seed)
    test = repeat_task(400, REPEAT_LENGTH, vocab, seed=config.seed + 1)
    model = spec.build(size=config.size)
    optimizer = _optimizer(model, config.lr or task.lr)
    epochs = config.epochs or task.epochs
    built = time.perf_counter()
    clock = _Clock(config.time_budget_s)
    generator = torch.Generator().manual_seed(config.seed)

    def nll(batch: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood of the predictable tokens of `batch`."""
        if seq2seq:
            # The encoder reads the pattern; the decoder writes its repetitions (teacher forcing).
            source, target = batch[:, :REPEAT_PATTERN], batch[:, REPEAT_PATTERN:]
            start = torch.zeros_like(target[:, :1])
            hidden = model(source, torch.cat([start, target[:, :-1]], 1))
            inner: Any = model.model
            scale = inner.config.d_model**-0.5  # T5's tied head
            logits = (hidden * scale) @ inner.shared.weight.T
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        logits = model(batch)[:, REPEAT_PATTERN - 1 : -1]
        target = batch[:, REPEAT_PATTERN:]
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))

    def test_perplexity() -> tuple[float, float]:
        model.eval()
        with torch.no_grad():
            loss = float(torch.stack([nll(test[i : i + 200]) for i in range(0, len(test), 200)])
                         .mean())  # fmt: skip
        return loss, math.exp(loss)

    def validation() -> tuple[float, dict[str, float]]:
        val_loss, perplexity = test_perplexity()
        return val_loss, {"val_perplexity": perplexity}

    curves = _fit_minibatches(
        model, optimizer, train, nll, validation,
        epochs=epochs, config=config, generator=generator, clock=clock,
    )  # fmt: skip
    trained = time.perf_counter()
    _, perplexity = test_perplexity()
    chance = vocab - REPEAT_FIRST_TOKEN
    if progress:
        progress(f"{spec.name}: perplexity {perplexity:.3f} (chance {chance}, perfect 1.0)")
    timings = {"data": 0.0, "build": built - started, "train": trained - built}
    result = _finish(
        spec, config, task, model, perplexity, 1.5, curves, timings, clock,
        {"chance_perplexity": chance, "pattern": REPEAT_PATTERN, "length": REPEAT_LENGTH},
    )  # fmt: skip
    source = test[:2, :REPEAT_PATTERN]
    example = (source, torch.zeros_like(source)) if seq2seq else (test[:2],)
    return TrainedTask(model.eval(), example, result)


# --- rl: DQN on CartPole ----------------------------------------------------------------------


def _episode_returns(q: nn.Module, episodes: int, seed: int) -> list[float]:
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    returns = []
    q.eval()
    for episode in range(episodes):
        state, _ = env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            with torch.no_grad():
                action = int(q(torch.as_tensor(state).unsqueeze(0)).argmax(1))
            state, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return returns


def _rl(spec: ModelSpec, config: TaskConfig, progress: Progress | None) -> TrainedTask:
    """DQN (Mnih et al. 2015): experience replay, a target network, epsilon-greedy exploration
    and the Huber loss, on CartPole's 4-number state with DQN's value network as an MLP."""
    import gymnasium as gym

    task = TASKS["rl"]
    started = time.perf_counter()
    env = gym.make("CartPole-v1")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        q = rl.MLPQNetwork(4, 2, 64)
        target = rl.MLPQNetwork(4, 2, 64)
    target.load_state_dict(q.state_dict())
    optimizer = _optimizer(q, config.lr or task.lr)
    chunks = config.epochs or task.epochs  # one curve point per 1,000 environment steps
    total_steps = chunks * 1000
    rng = np.random.default_rng(config.seed)
    capacity = 20_000
    states = np.zeros((capacity, 4), np.float32)
    next_states = np.zeros((capacity, 4), np.float32)
    actions = np.zeros(capacity, np.int64)
    rewards = np.zeros(capacity, np.float32)
    dones = np.zeros(capacity, np.float32)
    built = time.perf_counter()
    clock = _Clock(config.time_budget_s)
    state, _ = env.reset(seed=config.seed)
    episode_return, finished_returns = 0.0, []
    curves: list[dict[str, Any]] = []
    best_state, best_score = None, -1.0
    losses: list[float] = []
    tick = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        for step in range(total_steps):
            epsilon = max(0.05, 1.0 - step / (0.4 * total_steps))
            if rng.random() < epsilon:
                action = int(rng.integers(2))
            else:
                with torch.no_grad():
                    action = int(q(torch.as_tensor(state).unsqueeze(0)).argmax(1))
            new_state, reward, terminated, truncated, _ = env.step(action)
            slot = step % capacity
            states[slot], actions[slot], rewards[slot] = state, action, reward
            next_states[slot], dones[slot] = new_state, float(terminated)
            episode_return += float(reward)
            state = new_state
            if terminated or truncated:
                finished_returns.append(episode_return)
                episode_return = 0.0
                state, _ = env.reset()
            if step >= 500:
                pick = rng.integers(0, min(step + 1, capacity), config.batch_size)
                s, a = torch.as_tensor(states[pick]), torch.as_tensor(actions[pick])
                with torch.no_grad():
                    best_next = target(torch.as_tensor(next_states[pick])).max(1).values
                    goal = torch.as_tensor(rewards[pick]) + 0.99 * best_next * (
                        1 - torch.as_tensor(dones[pick])
                    )
                q.train()
                loss = F.smooth_l1_loss(q(s).gather(1, a.unsqueeze(1)).squeeze(1), goal)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
                losses.append(loss.item())
            if step % 500 == 0:
                target.load_state_dict(q.state_dict())
            if (step + 1) % 1000 == 0:
                chunk = (step + 1) // 1000
                # Validation episodes (their own seeds) choose the best weights seen.
                val = float(np.mean(_episode_returns(q, 3, seed=10_000 + config.seed)))
                if val >= best_score:
                    best_score = val
                    best_state = {k: v.clone() for k, v in q.state_dict().items()}
                recent = finished_returns[-10:]
                curves.append(
                    _point(chunk, float(np.mean(losses)) if losses else 0.0, None,
                           time.perf_counter() - tick, train_return=float(np.mean(recent))
                           if recent else None, val_return=val, epsilon=epsilon)
                )  # fmt: skip
                losses = []
                tick = time.perf_counter()
                if clock.over(chunk, chunks, config.time_budget_s):
                    break
    env.close()
    if best_state is not None:
        q.load_state_dict(best_state)
    trained = time.perf_counter()
    returns = _episode_returns(q, 10, seed=config.seed + 1)
    quality = float(np.mean(returns))
    if progress:
        progress(f"{spec.name}: CartPole mean return {quality:.1f} over 10 episodes (max 500)")
    timings = {"data": 0.0, "build": built - started, "train": trained - built}
    result = _finish(
        spec, config, task, q, quality, 195.0, curves, timings, clock,
        {"episode_returns": returns, "environment_steps": len(curves) * 1000,
         "q_network": "MLP 4-64-64-2 (CartPole has no frames)", "zoo_model_params":
         spec.params(size=config.size)},
    )  # fmt: skip
    return TrainedTask(q.eval(), (torch.zeros(2, 4),), result)


TASKS: dict[str, Task] = {
    "gnn": Task("karate-club nodes", "KarateClub (torch_geometric)", "node_accuracy", True,
                200, 0.01, _gnn),
    "vae": Task("digits ELBO", "digits 1x8x8 in [0, 1]", "neg_elbo_nats", False, 40, 3e-3, _vae),
    "diffusion": Task("digits denoising", "digits 1x8x8 in [-1, 1]", "denoising_mse", False,
                      4, 2e-3, _diffusion),
    "gan": Task("digits generation", "digits 1x16x16 in [-1, 1]", "mmd2", False, 15, 2e-4,
                _gan),
    "ssm": Task("repeat LM", f"repeat {REPEAT_PATTERN}-token patterns x {REPEAT_LENGTH}",
                "perplexity", False, 5, 3e-3, _sequence_lm),
    "moe": Task("repeat seq2seq", f"repeat {REPEAT_PATTERN}-token patterns x {REPEAT_LENGTH}",
                "perplexity", False, 16, 5e-3, _sequence_lm),
    "rl": Task("CartPole DQN", "gymnasium CartPole-v1", "mean_return", True, 20, 1e-3, _rl),
}  # fmt: skip


def has_task(spec: ModelSpec) -> bool:
    return spec.family in TASKS


def run_task(spec: ModelSpec, config: TaskConfig, progress: Progress | None = None) -> TrainedTask:
    """Train and score `spec` on its family's task."""
    if spec.family not in TASKS:
        raise DlradarError(f"{spec.name}: no family task for {spec.family!r}")
    if spec.family == "gan" and spec.task != "noise":
        raise DlradarError(f"{spec.name}: the gan task trains a generator (dcgan)")
    return TASKS[spec.family].run(spec, config, progress)
