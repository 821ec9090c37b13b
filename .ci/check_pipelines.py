#!/usr/bin/env python3
"""Lints the ready-made pipelines: the composite GitHub Action (action.yml, through the example
workflow ci/github/gws-conform.yml that uses it) with actionlint, and the GitLab template
(ci/gitlab/gws-conform.gitlab-ci.yml) against ci/gitlab/ci.schema.json plus what a schema cannot say
(every `needs` and `extends` names a job, shards use CI_NODE_INDEX/CI_NODE_TOTAL, the JUnit report is
the file `merge --report-dir` writes). Each check is first shown to fail on a broken copy, so that a
lint that can no longer fail is itself an error. Run by .ci/run with .ci/.venv's Python (installed by
.ci/install.d/pipelines.sh)."""

import copy
import json
import pathlib
import subprocess
import sys
import tempfile

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
ACTIONLINT = pathlib.Path(sys.executable).parent / "actionlint"
GITLAB = ROOT / "ci/gitlab/gws-conform.gitlab-ci.yml"
WORKFLOW = ROOT / "ci/github/gws-conform.yml"


def actionlint(action: str, workflow: str) -> list:
    """actionlint over a repository laid out as GitHub has it: the action at the root (`uses: ./`)."""
    with tempfile.TemporaryDirectory() as tmp:
        t = pathlib.Path(tmp)
        (t / ".github/workflows").mkdir(parents=True)
        (t / "action.yml").write_text(action)
        (t / ".github/workflows/gws-conform.yml").write_text(workflow)
        subprocess.run(["git", "init", "-q", str(t)], check=True)
        out = subprocess.run([str(ACTIONLINT), "-no-color"], cwd=t, capture_output=True, text=True)
        return [] if out.returncode == 0 else [out.stdout + out.stderr]


def gitlab_problems(doc) -> list:
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in jsonschema.Draft202012Validator(
            json.loads((ROOT / "ci/gitlab/ci.schema.json").read_text())
        ).iter_errors(doc)
    ]
    if problems:
        return problems
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and k not in ("variables", "default", "workflow")}
    for name, job in jobs.items():
        for need in job.get("needs", []):
            need = need if isinstance(need, str) else need["job"]
            if need not in jobs:
                problems.append(f"{name}: needs `{need}`, which is no job")
        for base in [job["extends"]] if isinstance(job.get("extends"), str) else job.get("extends", []):
            if base not in jobs:
                problems.append(f"{name}: extends `{base}`, which is no job")
        script = "\n".join(job.get("script", []))
        if "parallel" in job and not ("$CI_NODE_INDEX" in script and "$CI_NODE_TOTAL" in script):
            problems.append(f"{name}: parallel, but its script does not use $CI_NODE_INDEX/$CI_NODE_TOTAL")
        junit = job.get("artifacts", {}).get("reports", {}).get("junit")
        if junit:
            folder = junit.rsplit("/", 1)[0]
            if f"merge --report-dir {folder} " not in script + " ":
                problems.append(f"{name}: the junit report {junit} is not what `merge --report-dir` writes")
    if not any("parallel" in j for j in jobs.values()):
        problems.append("no job runs shards with `parallel:`")
    if not any(j.get("artifacts", {}).get("reports", {}).get("junit") for j in jobs.values()):
        problems.append("no job hands GitLab a junit report")
    return problems


def main() -> int:
    action = (ROOT / "action.yml").read_text()
    workflow = WORKFLOW.read_text()
    gitlab = yaml.safe_load(GITLAB.read_text())

    # The checks can fail: each on a broken copy first.
    broken_action = action.replace("      shell: bash\n", "", 1)
    broken_workflow = workflow.replace("shards:", "shard-count:", 1)
    broken_gitlab = []
    for breaking in (
        lambda d: d["gws-conform:shard"].update(parallel="three"),
        lambda d: d["gws-conform:merge"].update(needs=["gws-conform:shards"]),
        lambda d: d["gws-conform:merge"]["artifacts"]["reports"].update(junit="report/junit.xml"),
        lambda d: d["gws-conform:merge"].update(artefacts={}),
    ):
        d = copy.deepcopy(gitlab)
        breaking(d)
        broken_gitlab.append(d)
    self_test = [
        ("actionlint on an action step without `shell`", actionlint(broken_action, workflow)),
        ("actionlint on an input the action does not have", actionlint(action, broken_workflow)),
    ] + [(f"GitLab check on broken copy {i + 1}", gitlab_problems(d)) for i, d in enumerate(broken_gitlab)]
    blind = [name for name, found in self_test if not found]
    if blind:
        print("error: these lints no longer catch what they must:", *blind, sep="\n  ", file=sys.stderr)
        return 1

    problems = [f"action.yml / {WORKFLOW.relative_to(ROOT)}: {p}" for p in actionlint(action, workflow)]
    problems += [f"{GITLAB.relative_to(ROOT)}: {p}" for p in gitlab_problems(gitlab)]
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"ok: action.yml and {WORKFLOW.relative_to(ROOT)} (actionlint), {GITLAB.relative_to(ROOT)} (schema and structure)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
