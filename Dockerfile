# syntax=docker/dockerfile:1
# Sluice: the comment spam filter service. Two stages: the build stage installs the pinned
# dependencies into a virtual environment with pip; the final stage gets that environment and
# the code, with neither pip nor any compiler, and runs as an unprivileged user.
#   docker build -t sluice .
#   docker compose up        (docker-compose.yml: two replicas, PostgreSQL, Redis, nginx)
# The commands the stages run are docker/install.sh and docker/entrypoint.sh, which
# tests/scale/test_container.py runs in a fresh virtual environment (no Docker engine in CI).

ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY requirements.lock ./
COPY docker/install.sh docker/
RUN sh docker/install.sh /opt/venv --no-cache-dir

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="Sluice" \
      org.opencontainers.image.description="Self-hosted, Akismet-compatible comment spam filter" \
      org.opencontainers.image.licenses="MIT"
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home sluice \
 && mkdir -p /var/lib/sluice /app/models \
 && chown sluice:sluice /var/lib/sluice /app/models
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=root:root service ./service
COPY --chown=root:root training ./training
COPY --chown=root:root data ./data
COPY --chown=root:root docker/entrypoint.sh ./docker/entrypoint.sh
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SLUICE_HOST=0.0.0.0 \
    SLUICE_PORT=8000 \
    SLUICE_DATA_DIR=/var/lib/sluice \
    SLUICE_MODELS_DIR=/app/models \
    SLUICE_LOG_FORMAT=json \
    SLUICE_MIGRATE_ON_START=false \
    SLUICE_TRAIN_IF_MISSING=false
USER 10001:10001
EXPOSE 8000
VOLUME ["/var/lib/sluice", "/app/models"]
# Liveness only (the process answers); readiness (model, database) is GET /readyz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os,urllib.request;urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SLUICE_PORT','8000'),timeout=2)"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["serve"]
