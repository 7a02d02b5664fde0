# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-unit lint test-integration bench install clean train evaluate bench-classifier faults bench-invoke bench-sink eval-routing bench-peer chaos chaos-short eval-prequential eval-bounds

$(STAMP): pyproject.toml setup.py $(wildcard models/native/*)  ## the native module builds on install
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,report]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m tooling demo

test: lint
	$(PY) -m pytest tests

lint: $(STAMP)  ## ruff, mypy on every package, mypy --strict on the pure core
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict core

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

test-integration: $(STAMP)
	$(PY) -m pytest tests/integration

bench: $(STAMP)
	$(PY) -m tooling bench

train: $(STAMP)  ## retrain the classifier from ../shared/data into models/artifacts
	$(PY) -m training.train

evaluate: $(STAMP)  ## evaluation report: models/artifacts/eval_report.md
	$(PY) -m training.evaluate

bench-peer: $(STAMP)  ## this pipeline and LiteLLM's Router side by side (LiteLLM in its own venv)
	$(PY) -m tooling peer-bench

eval-routing: $(STAMP)  ## RouteLLM-style routing evaluation on held-out MMLU-Pro and LLMRouter rows
	$(PY) -m training.route_eval convert --source mmlu_pro --out var/eval/mmlu_pro.jsonl
	$(PY) -m training.route_eval run var/eval/mmlu_pro.jsonl --weak Meta-Llama-3_1-8B-Instruct --strong gpt-4o-2024-05-13
	$(PY) -m training.route_eval convert --source llmrouter --out var/eval/llmrouter.jsonl
	$(PY) -m training.route_eval run var/eval/llmrouter.jsonl --weak mistral-7b-instruct-v0.3 --strong llama-3.1-nemotron-51b-instruct --prices 0.2,0.2,0.9,0.9

eval-prequential: $(STAMP)  ## test-then-learn routing on LLMRouter and MMLU-Pro: prior without the source, then cross-fitted
	$(PY) -m training.route_eval convert --source llmrouter --out var/eval/llmrouter.jsonl
	$(PY) -m training.route_eval convert --source mmlu_pro --out var/eval/mmlu_pro.jsonl
	$(PY) -m training.train --leave-out llmrouter --out var/eval/prior-without-llmrouter
	$(PY) -m training.train --leave-out mmlu_pro --out var/eval/prior-without-mmlu_pro
	$(PY) -m training.prequential var/eval/llmrouter.jsonl --all-rows --prior var/eval/prior-without-llmrouter \
		--models mistral-7b-instruct-v0.3,llama-3.1-nemotron-51b-instruct --prices 0.2,0.2,0.9,0.9
	$(PY) -m training.prequential var/eval/mmlu_pro.jsonl --all-rows --prior var/eval/prior-without-mmlu_pro \
		--models Meta-Llama-3_1-8B-Instruct,gpt-4o-2024-05-13
	for f in 0 1 2 3 4; do $(PY) -m training.train --fold $$f/5 --out var/eval/prior-fold$$f || exit 1; done
	$(PY) -m training.prequential var/eval/llmrouter.jsonl --all-rows --folds 5 --prior var/eval/prior-fold \
		--models mistral-7b-instruct-v0.3,llama-3.1-nemotron-51b-instruct --prices 0.2,0.2,0.9,0.9 --out var/eval/crossfit
	$(PY) -m training.prequential var/eval/mmlu_pro.jsonl --all-rows --folds 5 --prior var/eval/prior-fold \
		--models Meta-Llama-3_1-8B-Instruct,gpt-4o-2024-05-13 --out var/eval/crossfit

bench-invoke: $(STAMP)  ## 5,000 requests against providers answering in 1 s
	$(PY) -m tooling bench --latency-ms 1000 --requests 5000

bench-sink: $(STAMP)  ## 10 million outcome rows: insert rate and every dashboard query's time
	$(PY) -m tooling bench-sink --rows 10000000

chaos: $(STAMP)  ## every failure scenario (worker, sink and broker kills, poison, abuse, 5-minute soak): one table
	$(PY) -m tooling chaos

chaos-short: $(STAMP)  ## the same scenarios with fewer requests and a 20 s soak (CI runs this)
	$(PY) -m tooling chaos --short

faults: $(STAMP)  ## fault injection table (outage, 5xx, 429 storm, hang, all down)
	$(PY) -m tooling faults

bench-classifier: $(STAMP)
	$(PY) -m tooling.bench_classifier

clean:
	rm -rf var

eval-bounds: $(STAMP)  ## how much routing signal LLMRouter's and MMLU-Pro's prompts carry (needs scikit-learn)
	$(PY) -m pip install -q scikit-learn==1.9.1 scipy==1.17.1  # analysis only, not a dependency of the router
	$(PY) -m training.route_eval convert --source llmrouter --out var/eval/llmrouter.jsonl
	$(PY) -m training.route_eval convert --source mmlu_pro --out var/eval/mmlu_pro.jsonl
	$(PY) -m training.route_bounds var/eval/llmrouter.jsonl --weak mistral-7b-instruct-v0.3 \
		--strong llama-3.1-nemotron-51b-instruct
	$(PY) -m training.route_bounds var/eval/mmlu_pro.jsonl --weak Meta-Llama-3_1-8B-Instruct --strong gpt-4o-2024-05-13
