# Two commands set everything up on a fresh machine, both idempotent:
#   make demo   -> venv, every framework, graphviz, then `xlalens dump`
#   make test   -> same set-up, then the whole test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.xlalens-installed
DUMP ?= xlalens-dump

.PHONY: demo test setup system lint clean bench

setup: system $(STAMP)

# Debian packages: graphviz's `dot` for rendering, chromium for the browser tests.
system:
	@command -v dot >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz chromium >/dev/null; }

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[all]'
	touch $(STAMP)

demo: setup
	$(BIN)/xlalens dump -o $(DUMP)

test: setup
	$(BIN)/ruff check xlalens tests benchmarks examples
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

lint: setup
	$(BIN)/ruff check xlalens tests benchmarks examples
	$(BIN)/ruff format --check xlalens tests benchmarks examples

bench: setup
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DUMP) build *.egg-info
