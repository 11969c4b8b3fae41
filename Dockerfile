# The gateway's production image. Three stages: GraphiQL's browser assets (Node), the
# Python environment (dependencies from the lock, then the project), and a slim runtime
# that runs as an unprivileged user.
#
#   docker build -t chargeye-gateway .
#   docker run -p 127.0.0.1:8000:8000 -e GATEWAY_UPSTREAM_URL=https://... chargeye-gateway
#
# `python -m gateway start` serves against GATEWAY_UPSTREAM_URL. The demo (the gateway and
# the embedded emulator in one container) must be asked for: -e GATEWAY_DEMO=1.
# With GATEWAY_WORKERS > 1, also set GATEWAY_CURSOR_SECRET (the workers must share it) and
# GATEWAY_METRICS_MULTIPROCESS_DIR (an empty writable directory); see docs/DEPLOY.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# GraphiQL's assets exactly as graphiql/package-lock.json has them; no install scripts run.
FROM node:20-slim AS graphiql
WORKDIR /graphiql
COPY graphiql/package.json graphiql/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src
# Dependencies before the source: this layer is rebuilt only when the lock changes.
# constraints.txt pins every runtime dependency, transitive ones and the build backend
# included (`make lock` writes it).
COPY constraints.txt ./
RUN pip install --no-deps --requirement constraints.txt
COPY pyproject.toml README.md ./
COPY gateway ./gateway
# --no-index: a dependency missing from the lock fails the build instead of being fetched
# unpinned; pip check proves the pinned set satisfies every requirement.
RUN pip install --no-index --no-build-isolation --constraint constraints.txt . \
    && pip check

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    # Inside a container the port must be reachable from outside it.
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000 \
    GATEWAY_WORKERS=1 \
    GATEWAY_GRAPHIQL_ASSETS_DIR=/opt/gateway/graphiql/node_modules
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin gateway
COPY --from=build /opt/venv /opt/venv
COPY --from=graphiql /graphiql/node_modules /opt/gateway/graphiql/node_modules
# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /opt/gateway
EXPOSE 8000
# The port is read when the check runs, so a GATEWAY_PORT given at `docker run` is honoured.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['GATEWAY_PORT'], timeout=2)"]
CMD ["python", "-m", "gateway", "start"]
