#!/bin/sh
# Start command of the image (ENTRYPOINT), also run by tests/scale/test_container.py.
#
#   entrypoint.sh serve          migrate if SLUICE_MIGRATE_ON_START=true, make sure a model is
#                                current (SLUICE_TRAIN_IF_MISSING=true), then serve with
#                                SLUICE_WORKERS uvicorn workers (default: one per CPU)
#   entrypoint.sh migrate        upgrade the database schema, then exit (one-shot job)
#   entrypoint.sh ensure-model   train and promote the default model if none is current, exit
#   entrypoint.sh CMD ARGS...    run anything else, e.g. python -m service keys create --site URL
set -eu

migrate() {
  python - <<'PY'
from service.settings import Settings
from service.storage import upgrade

settings = Settings()
if settings.database_url is None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
upgrade(settings.resolved_database_url)
print("database schema is current")
PY
}

ensure_model() {
  python -m training -q ensure-default
}

command="${1:-serve}"
case "$command" in
  migrate)
    migrate
    ;;
  ensure-model)
    ensure_model
    ;;
  serve)
    if [ "${SLUICE_MIGRATE_ON_START:-false}" = "true" ]; then
      migrate
    fi
    # Migrated once above (or by the one-shot job): never again by each worker at once.
    export SLUICE_MIGRATE_ON_START=false
    if [ "${SLUICE_TRAIN_IF_MISSING:-false}" = "true" ]; then
      ensure_model
    fi
    export SLUICE_WORKERS="${SLUICE_WORKERS:-$(nproc)}"
    # With several workers, serve's supervisor (service/workers.py) prepares the directory
    # the workers share their metrics through (PROMETHEUS_MULTIPROC_DIR, or a temporary one).
    exec python -m service serve
    ;;
  *)
    exec "$@"
    ;;
esac
