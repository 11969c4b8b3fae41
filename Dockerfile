# Slim image of the gateway. `docker run -p 8000:8000 IMAGE` starts the demo (gateway and
# the embedded emulator); with GATEWAY_UPSTREAM_URL set it starts the gateway alone.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    # Inside a container the port must be reachable from outside it.
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --no-create-home gateway
USER gateway
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD ["python", "-c", "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2); sys.exit(0)"]
CMD ["python", "-m", "gateway", "start"]
