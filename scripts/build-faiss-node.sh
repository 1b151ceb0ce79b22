#!/usr/bin/env bash
# Makes faiss-node usable offline. First tries its own install (prebuilt
# download, then a git clone of FAISS); when that fails, as it does on a
# machine that reaches only the npm registry and Debian, builds the addon
# against Debian's libfaiss-dev with native/faiss-system standing in for the
# vendored FAISS. Idempotent: does nothing when the addon already loads.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pkg="$root/node_modules/faiss-node"
[ -d "$pkg" ] || { echo "faiss-node is not installed (run npm ci first)" >&2; exit 1; }

loads() { (cd "$root" && node -e 'const f=require("faiss-node");const i=new f.IndexFlatL2(2);i.add([0,0,1,1]);if(i.ntotal()!==2)process.exit(1)' >/dev/null 2>&1); }

if loads; then echo "faiss-node: ready"; exit 0; fi

echo "faiss-node: trying its own install (prebuilt download, then a git clone of FAISS)"
if (cd "$root" && timeout 300 npm rebuild faiss-node >/tmp/faiss-node-install.log 2>&1) && loads; then
  echo "faiss-node: its own install worked"; exit 0
fi
echo "faiss-node: its own install failed (log: /tmp/faiss-node-install.log)"

echo "faiss-node: building against Debian's libfaiss-dev"
rm -rf "$pkg/deps/faiss" "$pkg/build"
mkdir -p "$pkg/deps"
cp -r "$root/native/faiss-system" "$pkg/deps/faiss"
# cmake-js reads Node's headers from the node-api-headers package, so nothing is downloaded.
(cd "$pkg" && "$root/node_modules/.bin/cmake-js" compile --log-level warn \
   --directory "$pkg" 2>&1 | tail -n 20)
loads || { echo "faiss-node: build finished but the addon does not load" >&2; exit 1; }
echo "faiss-node: built against system FAISS"
