"""NOTICE covers every bundled third-party file, and nothing marked "never copy" is bundled.

NOTICE has one "## " section per work. Its "Files:" lines give the paths the work
covers as globs, or "none". Every file under the folders in SCOPE must be covered
by exactly one section, and every glob must match at least one file, so the
notice cannot go stale.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTICE = ROOT / "NOTICE"
# The shared data folder, read in place: $LIQSITE_SHARED_DATA (CI sets it), else beside the repository.
SHARED_DATA = Path(os.environ.get("LIQSITE_SHARED_DATA") or ROOT.parent / "shared" / "data")

# Where bundled third-party files live: sample data, plugin data files, test fixtures, vendored front-end code.
SCOPE = ("plugins/sample/data/**", "plugins/*/data/**", "tests/**/fixtures/**", "**/static/**/vendor/**")


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex over "/"-separated paths: "*" and "?" stay inside one folder, "**" spans folders."""
    parts = pattern.split("/")
    out = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        out.append("".join("[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch) for ch in part))
        if not last:
            out.append("/")
    return re.compile("".join(out) + r"\Z")


def parse_notice(text: str) -> dict[str, list[str]]:
    """Section title -> its globs (empty for "Files: none")."""
    sections: dict[str, list[str]] = {}
    title = None
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            assert title not in sections, f"NOTICE: section {title!r} appears twice"
            sections[title] = []
        elif line.startswith("# "):
            title = None
        elif line.startswith("Files:"):
            assert title is not None, f"NOTICE: {line!r} is outside a '## ' section"
            value = line[len("Files:") :].split()
            if value != ["none"]:
                sections[title].extend(value)
    return sections


@cache
def repository_files() -> tuple[str, ...]:
    """Tracked and untracked (not ignored) files, so a new file fails before it is committed."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        paths = [p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        paths = []
        for folder, dirs, files in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in {".git", ".venv", "__pycache__", "node_modules"}]
            paths += [Path(folder, f).relative_to(ROOT).as_posix() for f in files]
    return tuple(sorted(p for p in paths if (ROOT / p).is_file()))


def in_scope(paths) -> list[str]:
    scope = [glob_regex(g) for g in SCOPE]
    return [p for p in paths if any(rx.match(p) for rx in scope)]


def coverage(sections: dict[str, list[str]], paths) -> dict[str, list[str]]:
    """Path -> the sections whose globs match it."""
    covered: dict[str, list[str]] = {}
    for title, globs in sections.items():
        for g in globs:
            rx = glob_regex(g)
            for p in paths:
                if rx.match(p) and title not in covered.setdefault(p, []):
                    covered[p].append(title)
    return covered


def problems(notice_text: str, paths) -> list[str]:
    sections = parse_notice(notice_text)
    covered = coverage(sections, paths)
    found = []
    for p in in_scope(paths):
        owners = covered.get(p, [])
        if not owners:
            found.append(f"not covered by NOTICE: {p}")
        elif len(owners) > 1:
            found.append(f"covered by more than one NOTICE section ({'; '.join(owners)}): {p}")
    for title, globs in sections.items():
        for g in globs:
            if not any(glob_regex(g).match(p) for p in paths):
                found.append(f"NOTICE glob matches no file (stale entry) in {title!r}: {g}")
    return found


def test_notice_and_licence_exist():
    assert (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause License")
    assert "the liqsite authors" in (ROOT / "LICENSE").read_text()
    sections = parse_notice(NOTICE.read_text())
    assert len(sections) > 5
    readme = (ROOT / "README.md").read_text()
    assert "LICENSE" in readme and "NOTICE" in readme


def test_every_bundled_file_is_covered_by_the_notice():
    paths = repository_files()
    assert in_scope(paths), "no bundled data found: is SCOPE out of date?"
    found = problems(NOTICE.read_text(), paths)
    assert not found, "\n".join(found)


def test_the_check_catches_an_uncovered_file_and_a_stale_glob():
    paths = (*repository_files(), "plugins/sample/data/new-folder/new.csv", "tests/heatmaps/fixtures/x.json")
    text = NOTICE.read_text() + "\n## Stale\nFiles: tests/liqengine/fixtures/gone.csv\n"
    found = problems(text, paths)
    assert "not covered by NOTICE: plugins/sample/data/new-folder/new.csv" in found
    assert "not covered by NOTICE: tests/heatmaps/fixtures/x.json" in found
    assert "NOTICE glob matches no file (stale entry) in 'Stale': tests/liqengine/fixtures/gone.csv" in found


def test_glob_semantics():
    assert glob_regex("tests/**/fixtures/**").match("tests/plugins/fixtures/okx/a.json")
    assert glob_regex("tests/**/fixtures/**").match("tests/fixtures/a.json")
    assert not glob_regex("plugins/sample/data/*.csv").match("plugins/sample/data/okx/a.csv")
    assert glob_regex("tests/plugins/fixtures/okx/*nautilus.json").match("tests/plugins/fixtures/okx/x.real-nautilus.json")


def _never_copy_folders() -> list[Path]:
    if not SHARED_DATA.is_dir():
        return []
    return sorted(
        d
        for d in SHARED_DATA.iterdir()
        if (d / "README.md").is_file() and re.search(r"never copy", (d / "README.md").read_text(), re.IGNORECASE)
    )


def test_nothing_from_a_never_copy_shared_folder_is_bundled():
    folders = _never_copy_folders()
    if not folders:
        pytest.skip(f"{SHARED_DATA} is absent or has no folder marked 'never copy'")
    forbidden_hashes: dict[str, str] = {}
    forbidden_rows: dict[str, str] = {}
    for folder in folders:
        for f in folder.rglob("*"):
            if not f.is_file():
                continue
            data = f.read_bytes()
            forbidden_hashes[hashlib.sha256(data).hexdigest()] = str(f)
            if f.suffix == ".csv":
                rows = data.decode(errors="replace").splitlines()[1:]  # skip the header: column names may recur
                forbidden_rows.update({r.strip(): str(f) for r in rows if len(r.strip()) >= 20})
    found = []
    for p in repository_files():
        data = (ROOT / p).read_bytes()
        if hashlib.sha256(data).hexdigest() in forbidden_hashes:
            found.append(f"{p} is a copy of {forbidden_hashes[hashlib.sha256(data).hexdigest()]}")
            continue
        hits = {
            forbidden_rows[line.strip()] for line in data.decode(errors="replace").splitlines() if line.strip() in forbidden_rows
        }
        found += [f"{p} holds rows of {source}" for source in sorted(hits)]
    assert not found, "\n".join(found)
