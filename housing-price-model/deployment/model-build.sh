#!/usr/bin/env bash
# Write the MLServer build context of an MLflow model and build its Docker image.
set -euo pipefail

script="$(basename "$0")"
deployment="$(cd "$(dirname "$0")" && pwd)"

usage() {
  cat <<USAGE
Usage: $script [--no-build] [--context DIR] MODEL_URI IMAGE_TAG

Writes the Docker build context of MODEL_URI (runs:/RUN_ID/model, models:/NAME@ALIAS,
models:/NAME/VERSION, models:/m-ID) into housing-price-model/build/, replacing an older
context, then runs 'docker build -t IMAGE_TAG' on it.

  --no-build     stop after writing the context
  --context DIR  write the context into DIR instead of housing-price-model/build

Environment:
  MLFLOW_TRACKING_URI  tracking server that resolves the URI (default http://127.0.0.1:9999)

Example: $script models:/house-price-model@champion house-price-model:latest
USAGE
}

build=true
context="$(dirname "$deployment")/build"
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --no-build) build=false; shift ;;
    --context)
      if [ $# -lt 2 ] || [ -z "$2" ]; then
        echo "$script: --context needs a folder" >&2; usage >&2; exit 2
      fi
      context="$2"; shift 2 ;;
    --) shift; positional+=("$@"); break ;;
    -*) echo "$script: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
if [ "${#positional[@]}" -ne 2 ]; then
  echo "$script: expected MODEL_URI and IMAGE_TAG, got ${#positional[@]} argument(s)" >&2
  usage >&2
  exit 2
fi
model_uri="${positional[0]}"
image_tag="${positional[1]}"

if ! python -c "import house_price.context" >/dev/null 2>&1; then
  echo "$script: the house_price package is not importable: run this script with" \
       "'uv run housing-price-model/deployment/$script' from the repository root" >&2
  exit 1
fi

# The context is written by tested Python code (house_price/context.py), not by this script.
python -m house_price.context "$model_uri" "$context" >/dev/null
echo "Build context for $model_uri written to $context"

if [ "$build" = false ]; then
  echo "Skipping the image build (--no-build). Build it with: docker build -t $image_tag $context"
  exit 0
fi

if ! command -v docker >/dev/null 2>&1; then
  echo "$script: docker not found; the context is ready in $context: build it on a machine" \
       "with Docker with 'docker build -t $image_tag $context'" >&2
  exit 3
fi
if ! docker info >/dev/null 2>&1; then
  echo "$script: no Docker engine is reachable ('docker info' failed); the context is ready" \
       "in $context: start Docker, or build it elsewhere with" \
       "'docker build -t $image_tag $context'" >&2
  exit 3
fi

docker build -t "$image_tag" "$context"
echo "Built $image_tag; run it with: docker compose up model (from the repository root)"
