# The two commands a newcomer needs: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned here, in the same pip command as the package, so pip never resolves an
# unpinned torch (which would download a multi-GB CUDA build). The package itself does not pin it.
TORCH_PIN := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install demo test test-kernels lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_PIN)" -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mubench demo --output demo_out

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -q

# The tests whose numbers come from training, again under other CPU kernel paths than this CPU's best
# (AVX2, and the plain non-vector one), since the next machine's CPU may not be this one.
KERNEL_TESTS := tests/test_trainers_digits.py tests/test_trainers_losses.py tests/test_report.py
test-kernels: $(STAMP)
	for cap in avx2 default; do \
	  ATEN_CPU_CAPABILITY=$$cap HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -q $(KERNEL_TESTS) || exit 1; \
	done

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; HF_HUB_OFFLINE=1 $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) demo_out build dist *.egg-info
