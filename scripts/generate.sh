#!/usr/bin/env bash
# Regenerates src/gen/ from proto/ (protobuf-es). Generated files are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
npx buf generate
