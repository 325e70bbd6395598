# Two commands for a new user: `make demo` and `make test` (both set up .venv first).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
OUT ?= outputs/demo

.PHONY: setup demo test docs bench clean reproduce

$(VENV)/.installed: setup.cfg setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch that lies on disk; nothing else satisfies the pin, so no CUDA download.
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[dev,docs,notebooks,video]" "$(TORCH_SPEC)"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/cos demo --out $(OUT)

test: setup
	$(PY) -m pytest -q tests
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir build/site

# every claim's experiment at the CPU preset (13 min on 2 cores), into experiments/results/cpu/, then docs/results.md
reproduce: setup
	OMP_NUM_THREADS=2 $(PY) -m interp.reproduce --preset cpu

docs: setup
	$(VENV)/bin/mkdocs serve

clean:
	rm -rf build outputs .pytest_cache
