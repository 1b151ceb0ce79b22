#!/usr/bin/env bash
# One idempotent set-up step for a fresh Debian 12 machine: Debian packages
# for the native modules (and headless chromium for the eval report's browser
# test), npm packages, faiss-node against system FAISS, and
# the TypeScript build. Needs only Debian's archive and the npm registry.
#
# CUDA edge box: run with ONNXRUNTIME_NODE_INSTALL=cuda12 to let
# onnxruntime-node fetch its CUDA execution provider (skipped by default).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# python3-grpcio and python3-grpc-tools are for the tests only (test/interop/: a
# Python client, and the check that Debian's older protoc compiles our proto);
# the daemon itself needs no Python. krita-data ships the real texture scans that
# `lafite synth --suite realistic` (and npm run bench:quality) read at run time.
# chromium renders the eval report in a headless test.
apt_packages=(libfaiss-dev libopenblas-dev patchelf cmake g++ make python3-grpcio python3-grpc-tools chromium krita-data)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm packages: reinstall only when package-lock.json changed since last time.
stamp=node_modules/.lafited-setup-stamp
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "setup: installing npm packages"
  # Scripts are run selectively below: faiss-node's own install would abort npm ci offline.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  npm rebuild @bufbuild/buf protobufjs --loglevel=error
  ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}" npm rebuild onnxruntime-node --loglevel=error
  # better-sqlite3: its prebuilt download fails offline, so this compiles it from source (about a minute).
  npm rebuild better-sqlite3 --loglevel=error
  echo "$lock_hash" > "$stamp.pending"
fi
bash scripts/build-faiss-node.sh
[ -f "$stamp.pending" ] && mv "$stamp.pending" "$stamp"

echo "setup: building TypeScript"
npm run --silent build
echo "setup: done"
