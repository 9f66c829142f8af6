# Two commands for a new user (see README.md):
#   make quickstart   set up .venv, generate the embedded dataset, train + evaluate on CPU, render a demo
#   make test         set up .venv and run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DATA ?= datasets/synthetic
OUT ?= output/quickstart
QUICKSTART_CFG := configs/SLOWFAST_8x4_R50_tiny_synthetic_cpu.yaml

.PHONY: setup quickstart test benchmark clean

setup: $(VENV)/.setup-done

# torch/torchvision and every other range come from setup.cfg; PySlowFast is
# installed without its dependencies (it asks for detectron2) and patched.
$(VENV)/.setup-done: setup.cfg pyproject.toml $(wildcard patches/*/*)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools<81" wheel
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m slowfast_custom.upstream --install
	touch $@

quickstart: setup
	$(PY) tools/make_synthetic.py --out $(DATA) --skip-existing
	$(PY) tools/run_net.py --cfg $(QUICKSTART_CFG) DATA.PATH_TO_DATA_DIR $(DATA) OUTPUT_DIR $(OUT)

test: setup
	$(PY) -m pytest

clean:
	rm -rf $(OUT) $(DATA)
