#!/usr/bin/env bash
# Installs the third-party CometD peers that tests/cometd_interop.rs runs: CometD's own Node server and
# Faye (servers for the harness's Bayeux client), and the official CometD JavaScript client with its Node
# adapter (a client for the reference server's /api/v2/notifications). Versions are pinned by
# tests/interop/package-lock.json. A missing node or npm fails the run: the interop tests never skip.
set -euo pipefail
cd "$(dirname "$0")/../../tests/interop"
echo "node $(node --version), npm $(npm --version 2>/dev/null)"
npm ci --no-audit --no-fund --loglevel=error
for p in cometd cometd-nodejs-client cometd-nodejs-server faye ws; do
  test -f "node_modules/$p/package.json" || { echo "error: $p did not install" >&2; exit 1; }
done
echo "CometD interop peers installed in tests/interop/node_modules"
