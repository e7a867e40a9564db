"""`make mutation`: mutation testing of the contract modules with mutmut 3, one group at a time.

Each group names the modules that carry a contract (deduplication, page atomicity, politeness,
configuration defaults, escaping, migrations, latency statistics, the tagger's negative rules)
and the test files that guard them; only those tests run against that group's mutants, which
keeps a run feasible on a small machine. Not part of `make test`: a full run takes hours.

    python tests/mutation/run.py                 # every group
    python tests/mutation/run.py stats config    # some groups
    python tests/mutation/run.py --list          # the groups, their modules and tests
    python tests/mutation/run.py --scores        # the scores of the last runs, without running
    python tests/mutation/run.py --fresh stats   # forget the cached verdicts first

Every group runs in its own working directory, mutants/<group>/ (git-ignored): symlinks to the
packages, tests, scripts and ../shared, and a pyproject.toml whose [tool.mutmut] is the
repository's plus the group's `only_mutate` and test selection. mutmut copies the packages into
mutants/<group>/mutants/ and mutates them there; the source tree is never touched. A re-run
reuses mutmut's cache: killed mutants of unchanged functions stay killed, and every survivor
is tested again (mutmut does not notice that a test changed).

The score of a module is detected / (mutants - equivalent - skipped), where detected counts the
killed ones and those that time out (an endless loop is caught too). tests/mutation/equivalent.md
lists the survivors that no test can kill, each with its reason: `- `mangled.name__mutmut_N`: why`.
Every other survivor is printed by name; `cd mutants/<group> && mutmut show NAME` shows its diff.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "mutants"
EQUIVALENT = Path(__file__).with_name("equivalent.md")
LINKED = ("core", "tracker", "bench", "dashboard", "dlradar", "scripts", "tests", "README.md")


@dataclass(frozen=True)
class Group:
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    what: str


GROUPS: dict[str, Group] = {
    "stats": Group(
        ("bench/stats.py",),
        ("tests/test_bench_stats.py", "tests/test_bench_harness.py"),
        "latency statistics: percentiles, spread, throughput",
    ),
    "config": Group(
        ("core/config.py",),
        (
            "tests/test_config.py",
            "tests/test_config_validation.py",
            "tests/test_fetch_politeness.py",
            "tests/test_cli.py",
        ),
        "configuration defaults, ranges and precedence",
    ),
    "dedup": Group(
        ("tracker/store.py",),
        ("tests/test_store.py", "tests/test_import.py", "tests/test_landmarks.py"),
        "one paper per arXiv id, DOI, OpenReview id or specific title; merge precedence",
    ),
    "ingest": Group(
        ("tracker/ingest.py", "tracker/fetching.py"),
        (
            "tests/test_ingest.py",
            "tests/test_kill.py::test_an_exception_between_page_and_bookkeeping_changes_neither",
            "tests/test_fetch_resume.py",
            "tests/test_fetch_politeness.py",
            "tests/test_fetching.py",
            "tests/test_import.py",
            "tests/test_cli.py",
        ),
        "a page and its run bookkeeping in one transaction; resume cursors",
    ),
    "http": Group(
        ("tracker/http.py",),
        (
            "tests/test_http.py",
            "tests/test_http_contract.py",
            "tests/test_http_limits.py",
            "tests/test_fetch_politeness.py",
        ),
        "politeness: spacing, User-Agent, retries, Retry-After",
    ),
    "escaping": Group(
        ("dashboard/digest/render.py", "dashboard/digest/feeds.py", "core/output.py"),
        (
            "tests/test_digest.py",
            "tests/test_digest_render.py",
            "tests/test_feeds.py",
            "tests/test_hostile_output.py",
            "tests/test_output.py",
        ),
        "hostile paper text escaped in Markdown, HTML, Atom, terminal and CSV output",
    ),
    "migrations": Group(
        ("core/db.py",),
        (
            "tests/test_db.py",
            "tests/test_upgrades.py",
            "tests/test_migrations.py",
            "tests/test_storage_errors.py",
            "tests/test_store.py",
        ),
        "old databases open in the new version; migrations once, under concurrency",
    ),
    "tagging": Group(
        ("tracker/tagging/classify.py", "tracker/tagging/matcher.py"),
        ("tests/test_tagging.py", "tests/test_tagger_scoring.py", "tests/test_tagging_quality.py"),
        "the tagger's scoring and its negative rules",
    ),
}

# mutmut's exit codes per mutant (mutmut/stats.py): what counts as detected, and what is no test.
KILLED = {1, 3}
TIMEOUT = {36, 24, -24, 152, 255}
SKIPPED = {34}
NO_TESTS = {5, 33}  # no selected test reaches the mutated function: a survivor too


def _toml(value: object) -> str:
    return json.dumps(value)  # a JSON string or list of strings is valid TOML


def prepare(name: str, group: Group) -> Path:
    """mutants/<name>/: links to the tree and the group's pyproject.toml."""
    work = WORK / name
    work.mkdir(parents=True, exist_ok=True)
    links = {p: ROOT / p for p in LINKED} | {"shared": ROOT.parent / "shared"}
    for link, target in links.items():
        path = work / link
        if not path.is_symlink():
            path.symlink_to(target, target_is_directory=target.is_dir())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    base = project["tool"]["mutmut"]
    pytest_ini = project["tool"]["pytest"]["ini_options"]
    lines = ["[tool.pytest.ini_options]"]
    lines += [f"{key} = {_toml(value)}" for key, value in pytest_ini.items()]
    lines += ["", "[tool.mutmut]"]
    settings = {
        **base,
        "only_mutate": list(group.modules),
        "pytest_add_cli_args_test_selection": list(group.tests),
    }
    lines += [f"{key} = {_toml(value)}" for key, value in settings.items()]
    text = "\n".join(lines) + "\n"
    pyproject = work / "pyproject.toml"
    if not pyproject.exists() or pyproject.read_text(encoding="utf-8") != text:
        pyproject.write_text(text, encoding="utf-8")
    return work


def recheck_survivors(name: str, group: Group) -> None:
    """Forget the verdicts of survivors: mutmut caches per mutated function and does not see
    that a test changed, so a survivor is tested again on every run (kills stay cached)."""
    for module in group.modules:
        meta = WORK / name / "mutants" / f"{module}.meta"
        if not meta.exists():
            continue
        data = json.loads(meta.read_text())
        codes = data["exit_code_by_key"]
        for mutant, code in codes.items():
            if code is not None and code not in KILLED | TIMEOUT:
                codes[mutant] = None
        meta.write_text(json.dumps(data, indent=4))


def run(name: str, group: Group, max_children: int, fresh: bool) -> int:
    work = prepare(name, group)
    if fresh:
        shutil.rmtree(work / "mutants", ignore_errors=True)
    recheck_survivors(name, group)
    print(f"== {name}: {group.what}", flush=True)
    print(f"   mutating {', '.join(group.modules)}; tests {' '.join(group.tests)}", flush=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)]
    return subprocess.run(command, cwd=work, env=env, check=False).returncode


def equivalent_names() -> set[str]:
    if not EQUIVALENT.exists():
        return set()
    return set(re.findall(r"^- `([^`]+__mutmut_\d+)`", EQUIVALENT.read_text(), re.MULTILINE))


@dataclass
class Score:
    module: str
    total: int = 0
    detected: int = 0
    equivalent: int = 0
    skipped: int = 0
    unchecked: int = 0
    survivors: tuple[str, ...] = ()

    @property
    def counted(self) -> int:
        return self.total - self.equivalent - self.skipped - self.unchecked

    def line(self) -> str:
        if not self.total or self.unchecked == self.total:
            return f"{self.module:32} not run yet ({self.total} mutants)"
        percent = 100.0 * self.detected / self.counted if self.counted else 100.0
        text = (
            f"{self.module:32} {percent:5.1f}%  {self.detected}/{self.counted} detected"
            f" ({self.total} mutants, {self.equivalent} equivalent, {self.skipped} skipped"
        )
        if self.unchecked:
            text += f", {self.unchecked} not checked"
        return text + f", {len(self.survivors)} surviving)"


def scores(name: str, group: Group) -> list[Score]:
    equivalent = equivalent_names()
    out = []
    for module in group.modules:
        score = Score(module)
        meta = WORK / name / "mutants" / f"{module}.meta"
        if meta.exists():
            codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
            survivors = []
            for mutant, code in sorted(codes.items()):
                score.total += 1
                if mutant in equivalent:
                    score.equivalent += 1
                elif code in KILLED or code in TIMEOUT:
                    score.detected += 1
                elif code in SKIPPED:
                    score.skipped += 1
                elif code is None:
                    score.unchecked += 1
                else:
                    why = "no test reaches it" if code in NO_TESTS else f"exit {code}"
                    survivors.append(f"{mutant} ({why})")
            score.survivors = tuple(survivors)
        out.append(score)
    return out


def diff(name: str, mutant: str) -> str:
    """The changed lines of one mutant (`mutmut show`), indented."""
    shown = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", mutant],
        cwd=WORK / name,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    changed = [ln for ln in shown.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    return "\n".join(f"          {ln}" for ln in changed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("groups", nargs="*", help=f"default: all ({', '.join(GROUPS)})")
    parser.add_argument("--list", action="store_true", help="list the groups and exit")
    parser.add_argument("--scores", action="store_true", help="print the last scores only")
    parser.add_argument("--diffs", action="store_true", help="show each survivor's change")
    parser.add_argument(
        "--fresh", action="store_true", help="forget every cached verdict of the groups first"
    )
    parser.add_argument(
        "--max-children", type=int, default=1, help="parallel mutant runs (default 1)"
    )
    args = parser.parse_args(argv)
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    chosen = {n: GROUPS[n] for n in args.groups or GROUPS}
    if args.list:
        for name, group in chosen.items():
            print(f"{name:10} {group.what}\n{'':10} modules: {' '.join(group.modules)}")
            print(f"{'':10} tests:   {' '.join(group.tests)}")
        return 0
    failed = []
    for name, group in chosen.items():
        if not args.scores and run(name, group, args.max_children, args.fresh) != 0:
            failed.append(name)
    print("\nmutation scores (detected / mutants that count):")
    for name, group in chosen.items():
        for score in scores(name, group):
            print(f"  {score.line()}")
            for survivor in score.survivors:
                print(f"      survived: {survivor}")
                if args.diffs:
                    print(diff(name, survivor.split()[0]))
    if failed:
        print(f"mutmut failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
