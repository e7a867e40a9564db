"""The benchmark's settings, merged once: flags over [bench] settings over the profile.

`dlradar bench run`, the weekly job and the dashboard's button all build their run from here, so
the precedence rule (e.g. --threads, else [bench] threads, else the profile's) lives in one place.
Torch is imported only when a RunConfig is built.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bench.choices import PROFILES
from core.config import Settings
from core.errors import ConfigError

if TYPE_CHECKING:
    from bench.runner import RunConfig


@dataclass(frozen=True)
class RunOverrides:
    """What the command line asked for; empty or None fields leave the profile's choice."""

    quick: bool | None = None  # --quick/--full; None: [bench] profile
    models: tuple[str, ...] = ()
    backends: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    batch_sizes: tuple[int, ...] = ()
    threads: tuple[int, ...] = ()
    inter_op_threads: int | None = None
    warmup: int | None = None
    min_iterations: int | None = None
    min_time_s: float | None = None
    max_time_s: float | None = None
    size: str | None = None
    weights: str | None = None


def profile_name(quick: bool | None, settings: Settings) -> str:
    """--quick or --full, else [bench] profile of the configuration (file, environment, default)."""
    if quick is not None:
        return "quick" if quick else "full"
    profile = settings.get("bench", "profile")
    if profile not in PROFILES:
        origin = settings.origins["bench"]["profile"]
        raise ConfigError(
            f"bench.profile = {profile!r} ({origin}): expected {' or '.join(PROFILES)}"
        )
    return str(profile)


def configured_threads(settings: Settings) -> tuple[int, ...]:
    """[bench] threads of the configuration (empty: the profile's)."""
    return tuple(int(t) for t in settings.get("bench", "threads") or [])


def run_config(settings: Settings, overrides: RunOverrides) -> RunConfig:
    """The RunConfig of `bench run`: the profile, then [bench] settings, then the flags.

    ValueError for a value the RunConfig refuses (an unknown backend, a zero batch size).
    """
    from bench.runner import profile_config
    from bench.timing import TimingConfig

    base = profile_config(profile_name(overrides.quick, settings))
    old = base.timing
    min_time = old.min_time_s if overrides.min_time_s is None else overrides.min_time_s
    timing = TimingConfig(
        warmup=old.warmup if overrides.warmup is None else overrides.warmup,
        min_iterations=(
            old.min_iterations if overrides.min_iterations is None else overrides.min_iterations
        ),
        min_time_s=min_time,
        # A longer --min-time than the profile's cap raises the cap with it.
        max_time_s=max(old.max_time_s, min_time)
        if overrides.max_time_s is None
        else overrides.max_time_s,
        max_warmup_s=old.max_warmup_s,
    )
    return replace(
        base,
        models=overrides.models or base.models,
        backends=overrides.backends or base.backends,
        devices=overrides.devices or base.devices,
        batch_sizes=overrides.batch_sizes or base.batch_sizes,
        threads=overrides.threads or configured_threads(settings) or base.threads,
        inter_op_threads=overrides.inter_op_threads or base.inter_op_threads,
        timing=timing,
        size=overrides.size or base.size,
        weights=overrides.weights,
        profile=base.profile if not overrides.models else f"{base.profile}+custom",
    )
