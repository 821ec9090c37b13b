#!/usr/bin/env bash
# The system trust store (Debian ca-certificates): tests/tls.rs checks that a target whose certificate
# only a profile's ca_file trusts is refused without it, which needs a store to consult at all (the
# platform verifier refuses to start with none). Fails, never skips, when it cannot be installed.
set -euo pipefail
if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null
fi
test -s /etc/ssl/certs/ca-certificates.crt || { echo "error: no system CA bundle" >&2; exit 1; }
echo "system CA bundle: /etc/ssl/certs/ca-certificates.crt"
