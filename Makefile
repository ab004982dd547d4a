# Two commands set everything up on a fresh machine, both idempotent:
#   make demo   -> venv, every framework, graphviz, then `xlalens dump`
#   make test   -> same set-up, then the whole test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.xlalens-installed
DUMP ?= xlalens-dump
# Compile-only plugins for `xlalens compile` (docs/targets.md). They go to a folder of
# their own that only the target compile subprocess puts on its path: in the venv's
# site-packages they would make every `import jax` log cuInit / TPU errors. libtpu is
# the version jax[tpu]==0.10.2 pins; the CUDA plugin uses the CUDA 12 libraries torch
# 2.9.0 already installed in the venv (hence --no-deps).
TARGETS_SITE := $(VENV)/targets-site
TARGETS_STAMP := $(TARGETS_SITE)/.xlalens-targets-installed
TARGETS_PKGS := "libtpu==0.0.42.*" "jax-cuda12-plugin==0.10.2" "jax-cuda12-pjrt==0.10.2"
DEMO_TARGETS ?= h100,tpu-v5e

.PHONY: demo test setup system lint clean bench

setup: system $(STAMP) $(TARGETS_STAMP)

# Debian packages: graphviz's `dot` for rendering, chromium for the browser tests.
system:
	@command -v dot >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz chromium >/dev/null; }

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[all]'
	touch $(STAMP)

$(TARGETS_STAMP): | $(STAMP)
	$(BIN)/pip install -q --upgrade --no-deps --target $(TARGETS_SITE) $(TARGETS_PKGS)
	touch $(TARGETS_STAMP)

demo: setup
	$(BIN)/xlalens dump -o $(DUMP)
	$(BIN)/xlalens compile $(DUMP) --target $(DEMO_TARGETS)
	$(BIN)/xlalens render $(DUMP)

test: setup
	$(BIN)/ruff check xlalens tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

lint: setup
	$(BIN)/ruff check xlalens tests benchmarks examples
	$(BIN)/ruff format --check xlalens tests benchmarks examples

bench: setup
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DUMP) build *.egg-info
