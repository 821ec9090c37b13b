#!/usr/bin/env bash
# Test dependencies of the report tests (tests/reports*.rs):
# - xmllint (Debian libxml2-utils): validates the JUnit XML against tests/junit-10.xsd;
# - Debian's chromium and npm playwright-core (tests/browser/): open the HTML report headless.
# Never `npx playwright install`: the browser is Debian's /usr/bin/chromium.
# Fails, never skips, when something cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

need_apt=()
command -v xmllint >/dev/null 2>&1 || need_apt+=(libxml2-utils)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ "${#need_apt[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" fonts-dejavu-core >/dev/null
fi
# No `| head` here: under pipefail, head closing the pipe early kills xmllint with SIGPIPE (exit 141).
xmllint_version="$(xmllint --version 2>&1)"
echo "${xmllint_version%%$'\n'*}"
chromium --version

(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
node -e "require('./tests/browser/node_modules/playwright-core'); console.log('playwright-core', require('./tests/browser/node_modules/playwright-core/package.json').version)"
