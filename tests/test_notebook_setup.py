"""The notebook series as a whole: the Colab install cell, the series' shape, Binder and the README.

The repository's address lives in one place, ``[project.urls] Repository`` in pyproject.toml;
these tests check that the Colab cell and the README's badges agree with it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BINDER = ROOT / "binder"
TINYSOUNDFONT = re.search(r"^TINYSOUNDFONT := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def repository_url() -> str:
    tomllib = pytest.importorskip("tomllib")
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Repository"]


def repository_slug() -> str:
    """``owner/name`` of the GitHub repository in pyproject.toml."""
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+)", repository_url())
    assert match, f"[project.urls] Repository should be https://github.com/OWNER/NAME, got {repository_url()}"
    return match.group(1)


COLAB_CELL = source(cells(NOTEBOOKS[0])[0]) if NOTEBOOKS else ""


# -- the series ------------------------------------------------------------------------------
def test_the_series_is_numbered_00_to_09():
    assert [path.name[:2] for path in NOTEBOOKS] == [f"{n:02d}" for n in range(10)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_goals_an_exercise_and_what_to_read_next(path):
    markdown = [source(cell) for cell in cells(path) if cell["cell_type"] == "markdown"]
    assert markdown[0].startswith(f"# {path.name[:2]} · "), "the first markdown cell is the numbered title"
    assert "**Goals.**" in markdown[0]
    assert any(re.search(r"^## Exercises?\b", text, re.M) for text in markdown)
    headings = re.findall(r"^## (.+)$", "\n".join(markdown), re.M)
    assert headings[-1] == "What to read next", f"{path.name} should end with '## What to read next'"


def solution_names() -> list[str]:
    from scoringkit.nb import solutions

    return [name for name in solutions.__all__ if re.match(r"ex\d\d_", name)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_solutions_named_in_a_notebook_exist_and_belong_to_it(path):
    from scoringkit.nb import solutions

    text = "\n".join(source(cell) for cell in cells(path))
    named = set(re.findall(r"solutions\.(ex\d\d_\w+)", text))
    assert named, f"{path.name} names no solution function (scoringkit.nb.solutions.exNN_...)"
    for name in named:
        assert hasattr(solutions, name), f"{path.name} names solutions.{name}, which does not exist"
        assert name.startswith(f"ex{path.name[:2]}_"), f"{path.name} uses another notebook's solution {name}"


def test_every_solution_function_is_named_in_its_notebook():
    texts = {path.name[:2]: "\n".join(source(cell) for cell in cells(path)) for path in NOTEBOOKS}
    for name in solution_names():
        assert name in texts[name[2:4]], f"solutions.{name} is not mentioned in notebook {name[2:4]}"


# -- the Colab cell ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_starts_with_the_same_colab_cell(path):
    first = cells(path)[0]
    assert first["cell_type"] == "code"
    assert source(first).startswith("# Google Colab only")
    assert source(first) == COLAB_CELL, f"the Colab cell of {path.name} differs from {NOTEBOOKS[0].name}'s"


def run_colab_cell(monkeypatch, tmp_path, *, on_colab: bool, installed: bool) -> tuple[list, dict]:
    """Execute the cell as a notebook would; return the commands it ran and its variables."""
    commands = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: commands.append(list(command)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if not installed:
        find_spec = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *args: None if name == "scoringkit" else find_spec(name, *args))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(COLAB_CELL, "<colab cell>", "exec"), namespace)
    return commands, namespace


def test_colab_cell_does_nothing_outside_colab(monkeypatch, tmp_path, capsys):
    (tmp_path / "scoringkit-0.1.0-py3-none-any.whl").write_bytes(b"")
    commands, _ = run_colab_cell(monkeypatch, tmp_path, on_colab=False, installed=False)
    assert commands == [] and capsys.readouterr().out == ""


def test_colab_cell_does_nothing_when_scoringkit_is_installed(monkeypatch, tmp_path, capsys):
    commands, _ = run_colab_cell(monkeypatch, tmp_path, on_colab=True, installed=True)
    assert commands == [] and capsys.readouterr().out == ""


def test_colab_cell_installs_from_the_repository_in_pyproject(monkeypatch, tmp_path):
    from packaging.requirements import Requirement

    commands, namespace = run_colab_cell(monkeypatch, tmp_path, on_colab=True, installed=False)
    expected = f"scoringkit[notebook] @ git+{repository_url()}.git"
    assert namespace["SCORINGKIT_SOURCE"] == expected
    requirement = Requirement(expected)
    assert (requirement.name, requirement.extras) == ("scoringkit", {"notebook"})
    assert commands[0][-1] == expected and commands[0][1:4] == ["-m", "pip", "install"]
    assert commands[1][-2:] == ["--no-deps", TINYSOUNDFONT]
    assert len(commands) == 2


def test_colab_cell_prefers_the_newest_uploaded_wheel(monkeypatch, tmp_path):
    from packaging.requirements import Requirement

    old, new = tmp_path / "scoringkit-0.0.9-py3-none-any.whl", tmp_path / "scoringkit-0.1.0-py3-none-any.whl"
    old.write_bytes(b"")
    new.write_bytes(b"")
    os.utime(old, (1_000_000, 1_000_000))
    commands, _ = run_colab_cell(monkeypatch, tmp_path, on_colab=True, installed=False)
    requirement = Requirement(commands[0][-1])
    assert (requirement.name, requirement.extras) == ("scoringkit", {"notebook"})
    assert requirement.url == new.resolve().as_uri()
    assert commands[1][-2:] == ["--no-deps", TINYSOUNDFONT]


# -- README -----------------------------------------------------------------------------------
def test_readme_has_a_binder_badge_and_a_colab_badge_per_notebook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    slug = repository_slug()
    binder = f"(https://mybinder.org/v2/gh/{slug}/HEAD?urlpath=lab/tree/notebooks)"
    assert f"[![Binder](https://mybinder.org/badge_logo.svg)]{binder}" in readme
    for path in NOTEBOOKS:
        colab = f"(https://colab.research.google.com/github/{slug}/blob/main/notebooks/{path.name})"
        assert f"(https://colab.research.google.com/assets/colab-badge.svg)]{colab}" in readme, path.name
    # every link to the repository names the one in pyproject.toml
    linked = set(re.findall(r"(?:github\.com|/gh|/github)/([\w.-]+/[\w.-]+?)(?:\.git|/|\))", readme))
    assert linked == {slug}


# -- Binder -----------------------------------------------------------------------------------
def test_binder_environment_pins_python_311():
    yaml = pytest.importorskip("yaml")
    environment = yaml.safe_load((BINDER / "environment.yml").read_text(encoding="utf-8"))
    dependencies = [d for d in environment["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in dependencies
    assert "pip" in dependencies


def test_binder_post_build_stops_on_errors_and_installs_tinysoundfont_without_dependencies():
    path = BINDER / "postBuild"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#!") and "bash" in lines[0]
    commands = [line for line in lines[1:] if line.strip() and not line.lstrip().startswith("#")]
    assert re.match(r"set -[a-z]*e", commands[0]), "the first command of postBuild must be `set -e` (or -euo ...)"
    assert any("--no-deps" in c and TINYSOUNDFONT in c for c in commands)
    assert any('-e ".[notebook]"' in c or "-e .[notebook]" in c for c in commands)
    assert os.access(path, os.X_OK), "postBuild must be executable (git update-index --chmod=+x)"
    subprocess.run(["bash", "-n", str(path)], check=True)  # valid shell syntax


def test_binder_apt_txt_lists_valid_debian_package_names():
    path = BINDER / "apt.txt"
    packages = [line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    packages = [p for p in packages if p]
    assert packages
    for package in packages:
        assert re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", package), f"{package!r} is not a Debian package name"
    assert "ffmpeg" in packages  # audioread decodes files libsndfile cannot read (AAC/M4A) with it
