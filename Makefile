# 工会品牌通 — common tasks. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app bot
# The demo's entry point: the only one that accepts GHPP_SIMULATE_WECHAT=1 and the demo token.
FLASK_DEMO := $(VENV)/bin/flask --app bot.devenv:demo_app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install lock assets run test lint docs screenshots worker bench bench-load

# requirements*.txt pin the direct dependencies; requirements.lock (make lock) pins everything they
# pull in, as constraints, so two installs from the same commit get the same versions.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -c requirements.lock
	touch $@

# Re-resolve requirements.lock after editing requirements*.txt (for every platform, Python 3.11+);
# versions already locked stay unless a pin needs others. LOCK_ARGS=--upgrade moves all of them,
# LOCK_ARGS="--upgrade-package NAME" one. It does not install first: a pin the old lock cannot satisfy
# would stop that.
lock:
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q "$$(grep -m1 '^uv==' requirements-dev.txt)"
	$(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --custom-compile-command "make lock" \
		$(LOCK_ARGS) requirements-dev.txt -o requirements.lock

# The router's classifier is trained from config/router/corpus (about 15 s; skipped when the
# parameters for the current corpus are already in the cache). The web process would otherwise
# build them on first use.
install: $(VENV)/.installed
	$(PY) -m nlp train --if-missing

# Apache ECharts from the npm registry (pinned in package.json / package-lock.json), served
# locally by the dashboard: intranets have no internet, so no CDN.
bot/static/vendor/echarts.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p bot/static/vendor
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE bot/static/vendor/

assets: bot/static/vendor/echarts.min.js

run: install assets
	$(PY) -m bot.devenv
	$(FLASK_DEMO) seed-demo
	$(FLASK_DEMO) admin seed-demo
	$(FLASK_DEMO) voice-demo
	$(FLASK_DEMO) recognition-demo
	@echo ""
	@echo "服务启动于 http://$(HOST):$(PORT)/wechat"
	@echo "管理后台：http://$(HOST):$(PORT)/admin/ （用上面打印的演示账号登录）"
	@echo "另开一个终端与公众号对话：$(FLASK_DEMO) chat --openid demo-worker --url http://$(HOST):$(PORT)/wechat"
	@echo ""
	$(FLASK_DEMO) run --host $(HOST) --port $(PORT)

test: install assets
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The documentation (docs/, mkdocs.yml); --strict fails on a broken link or anchor.
docs: install
	$(VENV)/bin/mkdocs build --strict -d $${DOCS_SITE:-site}

# docs/screenshots/*.png from the demo data (`run`'s steps, in a throwaway instance and database),
# taken in Debian's Chromium; by hand, not in CI.
screenshots: install assets
	$(PY) docs/capture_screenshots.py

worker: install
	$(FLASK) worker

bench: install
	@for f in bench/*_bench.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# The service the production way (gunicorn, PostgreSQL, Redis, RQ worker) under a campaign-night
# mix from a separate async load process, against a wechatpy + Flask baseline; then two nodes
# behind nginx. About 2 minutes; options: $(PY) -m bench.load.run --help. Results: bench/results/.
bench-load: install
	$(PY) -m bench.load.run $(BENCH_ARGS)
	$(PY) -m bench.load.rq_workers $(RQ_BENCH_ARGS)
