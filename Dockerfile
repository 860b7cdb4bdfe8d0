# syntax=docker/dockerfile:1
# Build stage: wheels for the pinned runtime dependencies (needs compilers for nothing, but
# keeps pip's caches and any build tools out of the final image).
FROM python:3.11.7-slim-bookworm AS build
WORKDIR /src
COPY requirements.lock ./
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --upgrade pip==25.3 \
 && /opt/venv/bin/pip install --no-cache-dir -r requirements.lock

# Final stage: the virtual environment, the code, and a default model if one was trained.
FROM python:3.11.7-slim-bookworm
RUN useradd --system --uid 10001 --home /app sluice
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY service ./service
COPY training ./training
COPY data ./data
COPY models ./models
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    SLUICE_DATA_DIR=/var/lib/sluice \
    SLUICE_MODELS_DIR=/app/models
RUN mkdir -p /var/lib/sluice && chown -R sluice /var/lib/sluice /app/models
USER sluice
EXPOSE 8000
VOLUME ["/var/lib/sluice"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os,urllib.request;urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8000\")}/healthz',timeout=2)"]
# Train the default model on first start when the image carries none, then serve.
CMD ["sh", "-c", "python -m training ensure-default && exec python -m service serve"]
