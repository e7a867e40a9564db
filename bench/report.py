"""One benchmark report, four renderings: JSON, CSV, Markdown and a pandas DataFrame.

Like optimum-benchmark's BenchmarkReport: the report is the run (profile, status,
environment) plus its results in the public shape of `bench show`; nested fields (latency_ms,
phases, eval) become dotted columns in CSV and the DataFrame, and read back into the same
nesting, so JSON and CSV both round-trip.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from bench import store

MARKDOWN_COLUMNS = (
    ("model", "model"),
    ("backend", "backend"),
    ("device", "device"),
    ("batch", "batch_size"),
    ("threads", "threads"),
    ("p50 ms", "latency_ms.p50"),
    ("p90 ms", "latency_ms.p90"),
    ("p99 ms", "latency_ms.p99"),
    ("IQR %", "iqr_pct"),
    ("items/s", "throughput_per_s"),
    ("GFLOP/s", "achieved_gflops"),
    ("% peak", "peak_pct"),
    ("own MB", "peak_memory_mb"),
    ("parity", "parity_max_abs_diff"),
    ("status", "status"),
)


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become dotted keys: {"latency_ms": {"p50": 1}} -> {"latency_ms.p50": 1}."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of flatten; a nested object whose fields are all empty becomes None."""
    nested: dict[str, Any] = {}
    # Dotted keys first: a plain column ("latency_ms", empty) of a row whose object was None
    # must not hide the same object's dotted columns from other rows.
    for key in sorted(flat, key=lambda k: -k.count(".")):
        value = flat[key]
        parts = key.split(".")
        target = nested
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        if not (isinstance(target.get(parts[-1]), dict) and value is None):
            target[parts[-1]] = value
    return {k: _collapse(nested[k]) for k in _ordered_roots(flat)}


def _ordered_roots(flat: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys(key.split(".")[0] for key in flat))


def _collapse(value: Any) -> Any:
    if isinstance(value, dict):
        inner = {k: _collapse(v) for k, v in value.items()}
        return None if all(v is None for v in inner.values()) else inner
    return value


def _to_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _from_cell(text: str) -> Any:
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    if text[0] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


@dataclass
class BenchReport:
    """A run's metadata and its results (one dict per configuration, `bench show` shape)."""

    results: Sequence[Mapping[str, Any]]
    run: dict[str, Any] = field(default_factory=dict)

    # --- construction ---
    @classmethod
    def from_db(cls, db: sqlite_utils.Database, run_ids: Sequence[int]) -> BenchReport:
        runs = [store.get_run(db, run_id) for run_id in run_ids]
        meta = runs[0] if len(runs) == 1 else {"runs": runs}
        return cls(store.result_rows(db, run_ids=run_ids), meta)

    # --- JSON ---
    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "results": self.results}

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str) + "\n"
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BenchReport:
        return cls(list(data.get("results", [])), dict(data.get("run", {})))

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike[str]) -> BenchReport:
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text()
        return cls.from_dict(json.loads(text))

    # --- CSV (results only: the run's metadata does not fit a table) ---
    def columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.results:
            for key in flatten(row):
                seen.setdefault(key, None)
        return list(seen)

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        columns = self.columns()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in self.results:
            flat = flatten(row)
            writer.writerow([_to_cell(flat.get(c)) for c in columns])
        text = buffer.getvalue()
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_csv(cls, text_or_path: str | os.PathLike[str]) -> BenchReport:
        text = str(text_or_path)
        if "\n" not in text:
            text = Path(text_or_path).read_text()
        reader = csv.DictReader(io.StringIO(text))
        return cls([unflatten({k: _from_cell(v) for k, v in row.items()}) for row in reader])

    # --- pandas ---
    def to_dataframe(self) -> Any:
        """A pandas DataFrame, one row per configuration, nested fields as dotted columns."""
        import pandas as pd

        return pd.DataFrame([flatten(r) for r in self.results], columns=self.columns())

    @classmethod
    def from_dataframe(cls, frame: Any) -> BenchReport:
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        return cls([unflatten(r) for r in records])

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the report in the format its suffix names: .json, .csv or .md."""
        target = Path(path)
        writers = {".json": self.to_json, ".csv": self.to_csv}
        if target.suffix == ".md":
            target.write_text(self.to_markdown())
        elif target.suffix in writers:
            writers[target.suffix](target)
        else:
            raise ValueError(f"cannot tell the report format of {target.name} (.json, .csv, .md)")
        return target

    # --- Markdown ---
    def to_markdown(self) -> str:
        lines: list[str] = []
        if self.run.get("id") is not None:
            env = self.run.get("environment") or {}
            versions = env.get("versions") or {}
            lines += [
                f"## Benchmark run {self.run['id']} ({self.run.get('profile')},"
                f" {self.run.get('status')})",
                "",
                f"- started {self.run.get('started_at')}, finished {self.run.get('finished_at')}",
                f"- CPU: {env.get('cpu_model')} ({env.get('logical_cores')} logical cores),"
                f" {env.get('memory_gb')} GB; GPU: {(env.get('gpu') or {}).get('name', 'none')}",
                f"- torch {versions.get('torch')}, onnxruntime {versions.get('onnxruntime')},"
                f" load average {env.get('load_average')}",
                "",
            ]
        lines.append("| " + " | ".join(h for h, _ in MARKDOWN_COLUMNS) + " |")
        lines.append("|" + "|".join("---" for _ in MARKDOWN_COLUMNS) + "|")
        for row in self.results:
            flat = flatten(row)
            p50, iqr = flat.get("latency_ms.p50"), flat.get("latency_ms.iqr")
            flat["iqr_pct"] = 100 * iqr / p50 if p50 and iqr is not None else None
            fraction = flat.get("fraction_of_peak")
            flat["peak_pct"] = 100 * fraction if fraction is not None else None
            if flat.get("status") != "ok":
                flat["status"] = f"{flat.get('status')} ({flat.get('stage')}): {flat.get('error')}"
            elif flat.get("noisy"):
                flat["status"] = "ok, noisy (IQR > 10% of the median)"
            cells = [_md_cell(flat.get(key)) for _, key in MARKDOWN_COLUMNS]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def _md_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value).replace("|", "\\|").replace("\n", " ")
