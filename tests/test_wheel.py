"""The wheel that `make wheel` builds (and that the notebooks' Colab cell installs) carries the assets.

The wheel is built offline from a copy of the sources, the way `make wheel` does it (pip with the
venv's setuptools, no build isolation), installed without dependencies into a temporary folder, and
imported from there in a fresh process: the shipped checkpoint must be found through
importlib.resources, as on Colab.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "scoringkit" / "assets"


def project_version() -> str:
    tomllib = pytest.importorskip("tomllib")
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def shipped_assets() -> list[str]:
    """The asset files in the source tree, as paths inside the wheel."""
    return sorted(
        path.relative_to(ROOT).as_posix()
        for path in ASSETS.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools")
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "scoringkit", source / "scoringkit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
               "--no-index", "--wheel-dir", str(out), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_is_pure_python_and_named_after_the_version(wheel):
    assert wheel.name == f"scoringkit-{project_version()}-py3-none-any.whl"


def test_wheel_contains_every_shipped_asset(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = shipped_assets()
    assert {"scoringkit/assets/models/text_emotion.safetensors",
            "scoringkit/assets/stories/lighthouse_keeper.txt"} <= set(expected)
    assert any(name.endswith(".json") for name in expected)
    assert any("MODEL_CARD_" in name for name in expected)
    missing = [name for name in expected if name not in names]
    assert not missing, f"assets missing from the wheel: {missing}"
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_wheel_metadata_names_the_repository(wheel):
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(archive.read(n).decode() for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    assert "Project-URL: Repository, https://github.com/" in metadata


def test_installed_wheel_finds_its_assets_through_importlib_resources(wheel, tmp_path):
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
               "--target", str(target), f"scoringkit[notebook] @ {wheel.as_uri()}"]  # as the Colab cell asks
    done = subprocess.run(install, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    check = (
        "import scoringkit, scoringkit.assets\n"
        "from importlib.resources import files\n"
        "from scoringkit.emotion.encoder import default_checkpoint\n"
        "print(scoringkit.__file__)\n"
        "print(default_checkpoint())\n"
        "print((files('scoringkit.assets') / 'models' / 'text_emotion.safetensors').is_file())\n"
        "print(scoringkit.assets.example_story().splitlines()[0])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    module, checkpoint, found, title = done.stdout.splitlines()
    assert Path(module).is_relative_to(target), "the check imported the source tree, not the wheel"
    assert Path(checkpoint).is_relative_to(target) and Path(checkpoint).stat().st_size > 1_000_000
    assert found == "True"
    assert title == "The Lighthouse Keeper"
