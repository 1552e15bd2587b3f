# scoringkit — the two commands: `make demo` and `make test`. `make lab` opens the notebooks.
# Everything installs into .venv; nothing else on the machine is touched.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TINYSOUNDFONT := tinysoundfont==0.3.7
# The CPU build of torch (on the project machines it installs from local disk; a bare
# `torch` requirement would pull a multi-GB CUDA build on Linux)
TORCH ?= torch==2.13.0

.PHONY: demo test lab bench wheel clean help

help:
	@echo "make demo   install into .venv and score the bundled example story into out/"
	@echo "make test   install into .venv and run the whole test suite, notebooks included"
	@echo "make lab    start JupyterLab on the notebooks"
	@echo "make bench  measure import time, end-to-end speed and real-time factor"
	@echo "make wheel  build dist/scoringkit-<version>-py3-none-any.whl (assets included), e.g. for Colab"

# (re)install when the dependency list changes
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[notebook,dev]"
	# tinysoundfont's metadata asks for pyaudio (source-only build): install it without dependencies
	$(BIN)/python -m pip install --quiet --no-deps $(TINYSOUNDFONT)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/scoringkit score scoringkit/assets/stories/lighthouse_keeper.txt -o out --force
	@echo "Listen to out/soundtrack.wav; the cue sheet is out/cues.csv."

test: $(STAMP)
	# unit tests, every docstring example, and every notebook executed top to bottom, in one run
	$(BIN)/python -m pytest --doctest-modules --nbmake --nbmake-timeout=300 tests scoringkit notebooks

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_extract.py
	$(BIN)/python benchmarks/bench_text_emotion.py
	$(BIN)/python benchmarks/bench_fuse.py

# A wheel with the shipped assets (models, model cards, stories) inside: upload it next to a notebook
# on Colab and the notebook's first cell installs it. Built offline with the venv's setuptools; the
# stale build/ folder is removed first, so no file deleted from the source can slip into the wheel.
wheel: $(STAMP)
	rm -rf build dist/scoringkit-*.whl
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .
	rm -rf build
	@ls -l dist/scoringkit-*.whl
	@echo "On Colab: upload this file next to the notebook, then run the notebook's first cell."

clean:
	rm -rf $(VENV) out notebooks/quickstart_out .pytest_cache build dist
