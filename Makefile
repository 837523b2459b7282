# 工会品牌通 — common tasks. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app bot
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test lint worker bench

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m bot.devenv
	$(FLASK) seed-demo
	@echo ""
	@echo "服务启动于 http://$(HOST):$(PORT)/wechat"
	@echo "另开一个终端与公众号对话：$(FLASK) chat --openid demo-worker --url http://$(HOST):$(PORT)/wechat"
	@echo ""
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

worker: install
	$(FLASK) worker

bench: install
	@for f in bench/*_bench.py; do echo "== $$f"; $(PY) $$f || exit 1; done
