#!/usr/bin/env bash
# Installs the independent DSSE implementation (the one in-toto's Python tools use) that tests/attest.rs
# checks the harness's signed attestations against: Python's securesystemslib with pyca/cryptography,
# pinned, in a virtual environment under tests/attest/.venv (gitignored). openssl, the other
# verifier, comes with the machine. Anything missing fails the set-up: the interop tests never skip.
set -euo pipefail
cd "$(dirname "$0")/../../tests/attest"
command -v openssl >/dev/null || { echo "error: openssl is not installed" >&2; exit 1; }
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -c 'import securesystemslib.dsse, securesystemslib.signer, cryptography' \
  || { echo "error: securesystemslib did not install" >&2; exit 1; }
echo "attestation verifiers installed in tests/attest/.venv ($(.venv/bin/pip freeze | grep -E '^(securesystemslib|cryptography)==' | tr '\n' ' '))"
