# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: run test test-browser graphiql-assets lint typecheck pytest schema lock bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project metadata changes, so a second `make run` starts in seconds.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The Node tools of the test suite (GraphQL-over-HTTP audit, JavaScript client), exactly
# as locked; reinstalled only when the lock changes.
NODE_STAMP := node_modules/.package-lock.json

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# The federation profile's router (deploy/router), which tests/deploy runs for real.
ROUTER_STAMP := deploy/router/node_modules/.package-lock.json

$(ROUTER_STAMP): deploy/router/package.json deploy/router/package-lock.json
	cd deploy/router && npm ci --no-audit --no-fund
	touch $(ROUTER_STAMP)

# GraphiQL's browser files, which the gateway serves itself (graphiql/package.json), as
# locked; reinstalled only when that lock changes.
GRAPHIQL_STAMP := graphiql/node_modules/.package-lock.json

$(GRAPHIQL_STAMP): graphiql/package.json graphiql/package-lock.json
	npm ci --prefix graphiql --no-audit --no-fund --loglevel=error
	touch $(GRAPHIQL_STAMP)

# Optional for `make run`: without npm (or the registry) GraphiQL's page offers the CDN.
graphiql-assets:
	@if command -v npm >/dev/null; then \
		$(MAKE) --no-print-directory $(GRAPHIQL_STAMP) || \
			echo "GraphiQL's files could not be installed: its page will offer the CDN"; \
	else echo "npm not found: GraphiQL's page will offer the CDN (see README, GraphiQL)"; fi

run: $(STAMP) graphiql-assets
	$(BIN)/python -m gateway demo

# Debian's nginx, which tests/deploy runs in front of two gateway replicas with
# deploy/nginx/nginx.conf (a few seconds to install). As root with apt-get it is installed
# when missing; it is only ever run by the tests, on loopback, never as a service.
NGINX := /usr/sbin/nginx
NGINX_CHECK := test -x $(NGINX) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	{ apt-get install -y -q nginx-light || { apt-get update -q && apt-get install -y -q nginx-light; }; } \
	>/dev/null 2>&1 && test -x $(NGINX); } || \
	{ echo "make test needs $(NGINX): run 'apt-get install nginx-light' as root"; exit 1; }

test: $(STAMP) $(NODE_STAMP) $(GRAPHIQL_STAMP) $(ROUTER_STAMP)
	@$(NGINX_CHECK)
	$(BIN)/ruff check gateway tests bench
	$(BIN)/mypy --strict gateway
	$(BIN)/python -m pytest -n 2 --dist loadfile

# GraphiQL in headless Debian Chromium (tests/browser). As root with apt-get, chromium is
# installed when missing; playwright never downloads a browser.
CHROMIUM := /usr/bin/chromium
CHROMIUM_CHECK := test -x $(CHROMIUM) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	{ apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; } \
	>/dev/null 2>&1 && test -x $(CHROMIUM); } || \
	{ echo "make test-browser needs $(CHROMIUM): run 'apt-get install chromium' as root"; exit 1; }

test-browser: $(STAMP) $(GRAPHIQL_STAMP)
	@$(CHROMIUM_CHECK)
	$(BIN)/python -m pytest -m browser tests/browser

schema: $(STAMP)
	$(BIN)/python -m gateway export-schema > schema.graphql

# constraints.txt: exact pins of every runtime dependency (transitive ones too) and of the
# build backend, which the image installs from. uv resolves for the image's interpreter
# and platform (Python 3.11 on Linux) whatever the machine running it, which pip-compile
# cannot. Run after changing [project] dependencies; `--upgrade` moves every pin.
lock: $(STAMP)
	printf 'setuptools>=77\n' | $(BIN)/uv pip compile pyproject.toml - --python-version 3.11 \
		--python-platform linux --quiet --custom-compile-command 'make lock' -o constraints.txt

# The peer of `python -m bench side-by-side` (Hive Gateway, Mesh Compose, autocannon), from
# its own lock; reinstalled only when that lock changes. wrk, its preferred load generator,
# is a Debian package: installed only as root where apt-get exists, else autocannon is used.
PEER_STAMP := bench/peer/node_modules/.package-lock.json
WRK := command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	{ apt-get install -y -q wrk || { apt-get update -q && apt-get install -y -q wrk; }; } \
	>/dev/null 2>&1; } || echo "wrk not installed: side-by-side falls back to autocannon; scale needs wrk"

$(PEER_STAMP): bench/peer/package.json bench/peer/package-lock.json
	cd bench/peer && npm ci --no-audit --no-fund
	touch $(PEER_STAMP)

# Every report, the side-by-side matrix in full (about ten minutes), the scale-out reports
# (two replicas on a throwaway Redis: `scale`, `live-fleet`) included.
bench: $(STAMP) $(PEER_STAMP)
	@$(WRK)
	$(BIN)/python -m bench

# The side-by-side table, fewer scenarios and shorter cells, then the scale-out reports'
# quick presets (about three minutes in all).
bench-quick: $(STAMP) $(PEER_STAMP)
	@$(WRK)
	$(BIN)/python -m bench side-by-side --quick scale --quick live-fleet --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
