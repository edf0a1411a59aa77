"""The suite's result as JUnit XML, the report format CI systems read (stdlib only).

One ``<testsuite name="sigilctl smoke">`` with a ``<testcase>`` per check; a failed check holds
a ``<failure>`` whose message is the check's one-line detail. Written atomically, so a CI step
never picks up half a file.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from sigilctl.errors import InputError
from sigilctl.smoke.suite import SmokeResult

SUITE_NAME = "sigilctl smoke"
CLASS_NAME = "sigilctl.smoke"


def junit_tree(result: SmokeResult) -> ET.ElementTree:
    seconds = f"{result.ms / 1000:.3f}"
    counts = {
        "tests": str(len(result.results)),
        "failures": str(result.failed),
        "errors": "0",
        "skipped": "0",
        "time": seconds,
    }
    suites = ET.Element("testsuites", {"name": SUITE_NAME, **counts})
    suite = ET.SubElement(suites, "testsuite", {"name": SUITE_NAME, **counts})
    for check in result.results:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": CLASS_NAME, "name": check.name, "time": f"{check.ms / 1000:.3f}"},
        )
        if check.ok:
            ET.SubElement(case, "system-out").text = f"{check.title}: {check.detail}"
        else:
            failure = ET.SubElement(case, "failure", {"message": check.detail, "type": "invariant"})
            failure.text = f"{check.title}: {check.detail}"
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_junit(result: SmokeResult, path: Path) -> Path:
    """Write the report to ``path`` (parents created); an unwritable path is an input error."""
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        junit_tree(result).write(temp, encoding="utf-8", xml_declaration=True)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InputError(f"cannot write the JUnit report {path}: {exc.strerror or exc}") from None
    return path
