# cuprum: every target sets up what it needs (.venv, dev packages, the native
# extension when cargo is present) so each works from a fresh clone.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HAVE_CARGO := $(shell command -v cargo >/dev/null 2>&1 && echo yes)
PYTEST_ARGS ?=
# The suites run on every core (pytest-xdist), one test file per worker at a
# time, so a module's fixtures (a 20 MB payload, a real kit run) are built
# once. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= auto
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
# The kit tests the compiled pathway too whenever it can be built.
NATIVE_IF_CARGO = $(if $(HAVE_CARGO),$(PY) tools/build_native.py,@echo "cargo not found: the kit tests the pure-Python pathway only")
BASE ?=
# cargo-mutants for the kit's Rust phase, pinned and built from crates.io into
# a project-local root so that CI installs the same version itself.
CARGO_MUTANTS_VERSION := 27.1.0
CARGO_TOOLS := .cargo-tools
CARGO_MUTANTS_STAMP := $(CARGO_TOOLS)/.cargo-mutants-$(CARGO_MUTANTS_VERSION)
# Building it takes minutes; the binary is kept per version in the user's
# cache and re-used by any checkout (a fresh CI clone included) when it
# reports exactly the pinned version.
CARGO_MUTANTS_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cuprum/cargo-mutants-$(CARGO_MUTANTS_VERSION)
SHARD ?=

.DEFAULT_GOAL := help
.PHONY: help venv develop native native-clean test test-pure test-native lint \
        typecheck fmt check-fmt coverage mutate mutate-report mutate-diff mutate-baseline bench bench-kit \
        rust-check clean test-installed lint-workflows workflow-tools \
        cargo-mutants mutate-rust mutate-rust-merge

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP) ## Create .venv with the project and its dev dependencies

develop: native ## Build the Rust extension into the source tree (for .venv)

native: $(STAMP) ## Build cuprum._rust_backend_native with maturin
	$(PY) tools/build_native.py

native-clean: $(STAMP) ## Remove the built extension (pure-Python pathway only)
	$(PY) tools/build_native.py --clean

# The kit's self-tests (mutation/tests) test the kit, not the pathway: with
# cargo present they run once, in the run with the extension (where the Rust
# phase's self-tests can run too); the run without it keeps the pathway suites
# and the kit's honesty tests on the real tree (the kit on a pure-Python
# machine). This keeps .ci/run inside its 30-minute budget.
PURE_WHEN_NATIVE_FOLLOWS := cuprum/unittests tests mutation/tests/test_kit_honesty.py

test: $(STAMP) ## Run unit + behaviour suites without, then with, the extension
ifeq ($(HAVE_CARGO),yes)
	$(MAKE) --no-print-directory test-pure PYTEST_ARGS="$(PYTEST_ARGS) $(PURE_WHEN_NATIVE_FOLLOWS)"
	$(MAKE) --no-print-directory test-native
else
	$(MAKE) --no-print-directory test-pure
	@echo "cargo not found: skipped the run with the Rust extension"
endif

test-pure: native-clean ## Run the suites with the extension absent
	CUPRUM_EXPECT_NATIVE=absent $(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

test-native: native ## Run the suites with the extension built (none may skip)
	CUPRUM_EXPECT_NATIVE=present $(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

test-installed: $(STAMP) ## Build sdist + both wheels, install outside the checkout, run the pathway suites
ifeq ($(HAVE_CARGO),yes)
	$(PY) -m tools.check_installed
else
	@echo "cargo not found: cannot build the native wheel, skipped the installed-package check"
endif

WORKFLOWS_STAMP := $(VENV)/.workflows-installed
$(WORKFLOWS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,workflows]'
	touch $(WORKFLOWS_STAMP)

workflow-tools: $(WORKFLOWS_STAMP) ## Install actionlint (the `workflows` extra; downloads from GitHub)

lint-workflows: $(WORKFLOWS_STAMP) ## actionlint over .github/workflows/*.yml
	$(VENV)/bin/actionlint .github/workflows/*.yml

rust-check: ## cargo fmt --check, clippy -D warnings, cargo test
	cd rust_extension && cargo fmt --check && \
	  cargo clippy --all-targets -- -D warnings && cargo test

lint: $(STAMP) ## ruff check
	$(PY) -m ruff check .

typecheck: $(STAMP) ## mypy --strict
	$(PY) -m mypy cuprum tests mutation tools conftest.py $(wildcard benchmarks/*.py)

fmt: $(STAMP) ## Format with ruff (and cargo fmt)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .
	-cd rust_extension && cargo fmt

check-fmt: $(STAMP) ## Check formatting
	$(PY) -m ruff format --check .

coverage: $(STAMP) ## Branch-coverage gate on the two pathway modules
	$(NATIVE_IF_CARGO)
	$(PY) -m mutation coverage

mutate: $(STAMP) ## The release check: every mutant once (mutmut + catalogue + generated) + gates
	$(NATIVE_IF_CARGO)
	$(PY) -m mutation run

$(CARGO_MUTANTS_STAMP):
	@if "$(CARGO_MUTANTS_CACHE)/cargo-mutants" mutants --version 2>/dev/null \
	    | grep -qx "cargo-mutants $(CARGO_MUTANTS_VERSION)"; then \
	  echo "cargo-mutants $(CARGO_MUTANTS_VERSION): re-using the build kept in $(CARGO_MUTANTS_CACHE)"; \
	  mkdir -p $(CARGO_TOOLS)/bin && cp "$(CARGO_MUTANTS_CACHE)/cargo-mutants" $(CARGO_TOOLS)/bin/; \
	else \
	  cargo install --locked --version $(CARGO_MUTANTS_VERSION) --root $(CARGO_TOOLS) cargo-mutants && \
	  { mkdir -p "$(CARGO_MUTANTS_CACHE)" && cp $(CARGO_TOOLS)/bin/cargo-mutants "$(CARGO_MUTANTS_CACHE)/" \
	    || echo "note: could not keep cargo-mutants in $(CARGO_MUTANTS_CACHE); the next checkout builds it again"; }; \
	fi
	touch $(CARGO_MUTANTS_STAMP)

cargo-mutants: $(CARGO_MUTANTS_STAMP) ## Install the pinned cargo-mutants into .cargo-tools/

mutate-rust: $(STAMP) $(CARGO_MUTANTS_STAMP) ## Rust phase: cargo-mutants, Rust catalogue, cross-language kills, gate
	$(PY) -m mutation.rust_phase run $(if $(SHARD),--shard $(SHARD))

mutate-rust-merge: $(STAMP) ## Merge Rust shards: FILES="mutation/results/rust-shard-*-of-N.json"
	@test -n "$(FILES)" || { echo "usage: make mutate-rust-merge FILES='mutation/results/rust-shard-*-of-N.json'"; exit 2; }
	$(PY) -m mutation.rust_phase merge $(FILES)

mutate-report: $(STAMP) ## Markdown, JSON and HTML reports from the last run
	$(PY) -m mutation.report

mutate-baseline: $(STAMP) ## Record the last run's scores as the ratchet baseline
	$(PY) -m mutation baseline


mutate-diff: $(STAMP) ## Mutation review of functions changed since BASE=<ref>
	@test -n "$(BASE)" || { echo "usage: make mutate-diff BASE=<git ref>"; exit 2; }
	$(PY) -m mutation run --since "$(BASE)"

bench: $(STAMP) ## Throughput benchmark (direct pipe vs Python vs Rust)
	$(PY) tools/build_native.py
	$(PY) benchmarks/pipeline_throughput.py

bench-kit: $(STAMP) ## Mutation kit vs plain mutmut: full, review, unchanged, interrupt (REPEAT=3; ARGS=--interrupt-only)
	$(NATIVE_IF_CARGO)
	$(PY) benchmarks/kit_bench.py --repeat $(or $(REPEAT),3) $(ARGS)

clean: ## Remove build and mutation artefacts
	rm -rf build dist mutants mutants.out .mutation-work .pytest_cache .mypy_cache .ruff_cache
	rm -f cuprum/_rust_backend_native*.so .coverage
