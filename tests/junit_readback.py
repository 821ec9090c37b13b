"""Reads a junit.xml with junitparser (a real JUnit consumer, from PyPI) and prints, as JSON, each
testcase as a CI tool would see it: its name, its suite's file, its result and the result's type
and message, and its system-out. Run by tests/junit_readback.rs with .ci/.venv's Python."""

import json
import sys

from junitparser import Error, Failure, JUnitXml, Skipped

xml = JUnitXml.fromfile(sys.argv[1])
suites = list(xml) if xml._tag == "testsuites" else [xml]
out = []
for suite in suites:
    for case in suite:
        results = case.result
        kind = "passed"
        rtype = message = None
        for r in results:
            if isinstance(r, Failure):
                kind = "failure"
            elif isinstance(r, Error):
                kind = "error"
            elif isinstance(r, Skipped):
                kind = "skipped"
            else:
                continue
            rtype, message = r.type, r.message
        out.append(
            {
                "suite": suite.name,
                "file": suite._elem.get("file"),
                "name": case.name,
                "classname": case.classname,
                "result": kind,
                "type": rtype,
                "message": message,
                "system_out": case.system_out,
            }
        )
print(json.dumps({"tests": xml.tests, "failures": xml.failures, "errors": xml.errors, "cases": out}))
