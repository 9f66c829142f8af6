# Two commands for a new user (see README.md):
#   make quickstart   set up .venv, generate the embedded dataset, train + evaluate on CPU, render a demo
#   make test         set up .venv and run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DATA ?= datasets/synthetic
OUT ?= output/quickstart
QUICKSTART_CFG := slowfast_custom/configs/SLOWFAST_8x4_R50_tiny_synthetic_cpu.yaml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# A machine without a CUDA GPU: `make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu` takes torch and
# torchvision from PyTorch's CPU wheels (no nvidia-* or triton packages; docs/install.md). Empty: PyPI's default.
TORCH_INDEX ?=

.PHONY: setup quickstart lint test benchmark benchmark-labelling clean browser-deps

setup: $(VENV)/.setup-done

# torch/torchvision and every other range come from setup.cfg; PySlowFast is
# installed without its dependencies (it asks for detectron2) and patched.
$(VENV)/.setup-done: setup.cfg pyproject.toml slowfast_custom/upstream_patches/pin.txt $(wildcard slowfast_custom/upstream_patches/*/*)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools<81" wheel
	$(if $(TORCH_INDEX),$(PY) -m pip install --quiet --index-url $(TORCH_INDEX) torch torchvision)
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m slowfast_custom.upstream --install
	touch $@

quickstart: setup
	$(PY) tools/make_synthetic.py --out $(DATA) --skip-existing
	$(PY) tools/run_net.py --cfg $(QUICKSTART_CFG) DATA.PATH_TO_DATA_DIR $(DATA) OUTPUT_DIR $(OUT)
	@# Demo: a val video encoded from its frames, people from the dataset's predicted boxes
	@# (HOG cannot see stick figures), ground truth drawn beside the predictions.
	$(PY) tools/frames_to_video.py $(DATA)/frames/synth_val_004 $(OUT)/demo/synth_val_004.mp4 --fps 30
	$(PY) tools/run_net.py --cfg $(QUICKSTART_CFG) DATA.PATH_TO_DATA_DIR $(DATA) OUTPUT_DIR $(OUT) \
		DEMO.ENABLE True DEMO.INPUT_VIDEO $(OUT)/demo/synth_val_004.mp4 DEMO.OUTPUT_FILE $(OUT)/demo/synth_val_004_demo.mp4 \
		DEMO.LABEL_FILE_PATH $(DATA)/annotations/ava.json \
		DEMO.PREDS_BOXES $(DATA)/annotations/ava_val_predicted_boxes.csv DEMO.GT_BOXES $(DATA)/annotations/ava_val_v2.2.csv \
		DEMO.VIS_MODE top-k DEMO.TOPK 2 DEMO.DISPLAY_WIDTH 640
	@echo "Demo video: $(OUT)/demo/synth_val_004_demo.mp4 (predictions beside it: $(OUT)/demo/synth_val_004_demo_predictions.csv/.json)"

# The labelling app's browser tests drive Debian's chromium with Playwright (the `test` extra);
# Playwright's own browser download is never used.
browser-deps:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

# The import contracts of pyproject.toml (layers point one way, no cycles, a torch-free core) and ruff's checks.
lint: setup
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff check .

test: setup browser-deps lint
	$(PY) -m pytest

# Speed, as ratios against baselines measured in the same run (docs/BENCHMARKS.md).
benchmark: setup
	$(PY) tools/benchmark.py --out output/benchmark/results.json
	$(PY) tools/benchmark_subset.py

# User actions to label vtest.avi's tracks and synthetic videos with a model's suggestions, each way vs box by box
# (docs/labelling.md): counts, not speed, so not part of `benchmark`. The first run also detects and tracks vtest.avi
# and trains the tiny config on synthetic videos (both reused from datasets/ later); then 3.5 minutes on 2 CPU cores.
benchmark-labelling: setup browser-deps
	$(PY) tools/benchmark_labelling.py --out output/benchmark_labelling/results.json

clean:
	rm -rf $(OUT) $(DATA)
