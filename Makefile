# Two commands for a new user: `make demo` and `make test` (both set up .venv first).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
OUT ?= outputs/demo

.PHONY: setup demo demo-walk test docs bench clean reproduce browser

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
	$(VENV)/bin/cos view $(OUT)/trace.h5 --out $(OUT)/viewer --overwrite

# the same on the second organism (maze-walk-tiny: two experts, a prompt, guidance)
demo-walk: setup
	$(PY) -m interp.organism.walk_demo --out $(OUT)-walk
	$(VENV)/bin/cos view $(OUT)-walk/trace_goal.h5 --out $(OUT)-walk/viewer --overwrite

# Debian's chromium and its driver, for the viewer's browser tests (which skip, saying why, without them)
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver \
		|| { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; } \
		|| echo "make browser: could not install chromium; the viewer's browser tests will be skipped"; \
	else echo "make browser: /usr/bin/chromium is absent and this is not root: run" \
		"'sudo apt-get install chromium chromium-driver', or the viewer's browser tests are skipped"; fi

test: setup browser
	$(PY) -m pytest -q tests
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir build/site

# every claim's experiment at the CPU preset (13 min on 2 cores), into experiments/results/cpu/, then docs/results.md
reproduce: setup
	OMP_NUM_THREADS=2 $(PY) -m interp.reproduce --preset cpu

docs: setup
	$(VENV)/bin/mkdocs serve

clean:
	rm -rf build outputs .pytest_cache
