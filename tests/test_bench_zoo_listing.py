"""`dlradar bench models`: params and FLOPs are counted once per zoo key, then read from the cache.

Builds are counted by wrapping each zoo entry's builder, with the in-process memo of
bench.zoo cleared, so a listing that builds nothing really took its figures from the file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from torch import nn

import core
from bench import zoo, zoo_listing
from dlradar.cli import cli

FIELDS = {"name", "family", "params", "flops", "input", "source"}  # design.md's


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts zoo builds by model name (params and FLOPs both build)."""
    counter: Counter[str] = Counter()

    def counting(name: str, builder: Callable[[str], nn.Module]) -> Callable[[str], nn.Module]:
        def build(size: str) -> nn.Module:
            counter[name] += 1
            return builder(size)

        return build

    for name, spec in list(zoo._MODELS.items()):
        monkeypatch.setitem(zoo._MODELS, name, replace(spec, builder=counting(name, spec.builder)))
    new_process(counter)
    yield counter
    new_process(counter)


def new_process(builds: Counter[str]) -> None:
    """What a new `dlradar` process starts from: bench.zoo's in-process memo empty, no builds.

    Without clearing the memo a second listing would build nothing even without the cache.
    """
    zoo._params.cache_clear()
    zoo._flops.cache_clear()
    builds.clear()


@pytest.fixture
def cache_file(runner: CliRunner, tmp_path: Path) -> Path:
    """Where the listing caches its figures: the runner fixture sets XDG_CACHE_HOME."""
    assert os.environ["XDG_CACHE_HOME"] == str(tmp_path / "cache")
    return tmp_path / "cache" / "dlradar" / "zoo-figures.json"


def listing(runner: CliRunner, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(cli, ["bench", "models", "--format", "jsonl", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_second_listing_builds_no_model(
    runner: CliRunner, cache_file: Path, builds: Counter[str]
) -> None:
    first = listing(runner, "--db", "x.db")
    assert set(builds) == {spec.name for spec in zoo.list_models()}
    assert cache_file.is_file()
    new_process(builds)
    second = listing(runner, "--db", "x.db")
    assert builds == Counter()
    assert second == first
    assert [r["name"] for r in second] == zoo.model_names()
    assert all(set(row) >= FIELDS and row["params"] and row["flops"] for row in second)
    assert not Path("x.db").exists() and not Path("data").exists()  # no database is opened


def test_each_model_is_counted_once_whatever_the_family_asked(
    runner: CliRunner, cache_file: Path, builds: Counter[str]
) -> None:
    assert [r["name"] for r in listing(runner, "--family", "rnn")] == ["rnn"]
    assert set(builds) == {"rnn"}  # only what is listed is counted
    new_process(builds)
    assert [r["name"] for r in listing(runner, "--family", "gru")] == ["gru"]
    assert set(builds) == {"gru"}
    new_process(builds)
    listing(runner, "--family", "rnn")
    listing(runner, "--family", "gru")
    assert builds == Counter()


def test_a_changed_key_recounts(
    runner: CliRunner, cache_file: Path, builds: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    version = core.__version__
    before = listing(runner, "--family", "lstm")
    new_process(builds)
    monkeypatch.setattr(core, "__version__", version + ".post1")  # an upgrade
    assert listing(runner, "--family", "lstm") == before
    assert builds["lstm"] > 0  # counted again, not taken from the other version's entry
    assert len(json.loads(cache_file.read_text())["entries"]) == 2
    new_process(builds)
    monkeypatch.setattr(core, "__version__", version)  # back: its entry is still there
    assert listing(runner, "--family", "lstm") == before
    assert builds == Counter()


def test_the_key_covers_the_zoo_source_and_library_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "bench"
    for path in zoo_listing.definition_files():
        target = copy / path.relative_to(zoo_listing.BENCH_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    key = zoo_listing.zoo_key(copy)
    assert key == zoo_listing.zoo_key()  # the same code gives the same key
    hf = copy / "models" / "hf.py"
    hf.write_text(hf.read_text().replace('"d_ff": 2048', '"d_ff": 1024'))  # T5's configuration
    assert zoo_listing.zoo_key(copy) != key
    real = zoo_listing._library_version
    monkeypatch.setattr(
        zoo_listing,
        "_library_version",
        lambda name: "0.0" if name == "transformers" else real(name),
    )
    assert zoo_listing.zoo_key() != key


@pytest.mark.parametrize(
    "content",
    [
        b'{"format": 1, "entries": {',  # cut short
        b"\xff\xfe\x00garbage",  # not UTF-8
        b"[]",  # JSON, but not the cache's
        b'{"format": 1, "entries": {"KEY": {"models": [], "figures": {"rnn": 1}}}}',
        b'{"format": 1, "entries": {"KEY": {"models": "MODELS", "figures": {"rnn": '
        b'{"params": "many", "flops": 1, "macs": 1, "flop_method": "counter"}}}}}',
    ],
)
def test_a_corrupt_cache_is_ignored_and_rewritten(
    runner: CliRunner, cache_file: Path, builds: Counter[str], content: bytes
) -> None:
    expected = listing(runner, "--family", "rnn")
    key = zoo_listing.zoo_key()
    models = json.dumps(json.loads(cache_file.read_text())["entries"][key]["models"])
    cache_file.write_bytes(
        content.replace(b"KEY", key.encode()).replace(b'"MODELS"', models.encode())
    )
    new_process(builds)
    assert listing(runner, "--family", "rnn") == expected
    assert builds["rnn"] > 0
    entry = json.loads(cache_file.read_text())["entries"][key]
    assert entry["figures"]["rnn"]["params"] == expected[0]["params"]
    new_process(builds)
    assert listing(runner, "--family", "rnn") == expected
    assert builds == Counter()


def test_an_unwritable_cache_never_fails_the_listing(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = listing(runner, "--family", "gru")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    result = runner.invoke(cli, ["bench", "models", "--family", "gru", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == expected
    assert "could not write the zoo cache" in result.stderr


def test_the_cache_lives_under_xdg_cache_home_else_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert zoo_listing.default_cache_file() == tmp_path / "xdg" / "dlradar" / "zoo-figures.json"
    for unset in ("", "relative/dir"):  # the XDG spec: ignore an empty or relative value
        monkeypatch.setenv("XDG_CACHE_HOME", unset)
        home = tmp_path / "home" / ".cache" / "dlradar" / "zoo-figures.json"
        assert zoo_listing.default_cache_file() == home


def test_a_cached_listing_imports_no_torch(runner: CliRunner, tmp_path: Path) -> None:
    expected = listing(runner, "--family", "rnn")  # fills the runner fixture's XDG_CACHE_HOME
    script = (
        "import sys\n"
        "from dlradar.cli import cli\n"
        "cli(['bench', 'models', '--family', 'rnn', '--format', 'jsonl'], standalone_mode=False)\n"
        "assert 'torch' not in sys.modules, 'a cached listing imported torch'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=os.environ.copy(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == expected


def test_a_family_without_a_model_says_so(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every family of the taxonomy has a model today; one added tomorrow starts without.
    monkeypatch.setattr(zoo, "_MODELS", {k: v for k, v in zoo._MODELS.items() if v.family != "rl"})
    result = runner.invoke(cli, ["bench", "models", "--family", "rl"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "" or "dqn" not in result.stdout
    assert "no model of family 'rl' in the zoo yet" in result.stderr
