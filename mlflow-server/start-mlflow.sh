#!/usr/bin/env bash
# Start the MLflow tracking server for this project, with its store inside this folder.
set -euo pipefail

usage() {
  cat <<USAGE
Usage: $(basename "$0") [--help] [-- EXTRA_MLFLOW_SERVER_ARGS...]

Starts 'mlflow server' from this folder: runs and registry in mlflow.db (SQLite),
artifacts in mlartifacts/, both beside this script and ignored by git.

Environment:
  MLFLOW_HOST           address to listen on (default 127.0.0.1; 0.0.0.0 exposes it)
  MLFLOW_PORT           port (default 9999)
  MLFLOW_ALLOWED_HOSTS  Host headers the server accepts, comma-separated
                        (default: MLflow's own, i.e. localhost names)
  MLFLOW_BACKEND_STORE_URI      default sqlite:///mlflow.db
  MLFLOW_ARTIFACTS_DESTINATION  default ./mlartifacts
  MLFLOW_SERVER_ENABLE_JOB_EXECUTION  default false: this project runs no server-side
                        jobs, and without them the server is one process instead of about ten
Arguments after '--' are passed to 'mlflow server' unchanged.
USAGE
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --) shift ;;
  "") ;;
  *) echo "$(basename "$0"): unknown argument '$1'" >&2; usage >&2; exit 2 ;;
esac

cd "$(dirname "$0")"

if ! command -v mlflow >/dev/null 2>&1; then
  echo "mlflow not found: run this script with 'uv run mlflow-server/start-mlflow.sh'" \
       "from the repository root, or activate the project's environment" >&2
  exit 1
fi

export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}"

args=(
  --host "${MLFLOW_HOST:-127.0.0.1}"
  --port "${MLFLOW_PORT:-9999}"
  --backend-store-uri "${MLFLOW_BACKEND_STORE_URI:-sqlite:///mlflow.db}"
  --artifacts-destination "${MLFLOW_ARTIFACTS_DESTINATION:-./mlartifacts}"
)
if [ -n "${MLFLOW_ALLOWED_HOSTS:-}" ]; then
  args+=(--allowed-hosts "$MLFLOW_ALLOWED_HOSTS")
fi

exec mlflow server "${args[@]}" "$@"
