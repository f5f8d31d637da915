"""`make audit` (scripts/audit.py) never reports a partial audit as a pass. No network: pip-audit's JSON report is
given in the shape pip-audit 2.10 writes it (with the PyPI service offline, every package comes back skipped)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit.py")
assert spec is not None and spec.loader is not None
audit = importlib.util.module_from_spec(spec)
sys.modules["audit"] = audit  # dataclasses look their module up there
spec.loader.exec_module(audit)

SKIPPED = {"name": "duckdb", "skip_reason": "Dependency not found on PyPI and could not be audited: duckdb (1.5.5)"}
CLEAN = {"name": "polars", "version": "2.1.0", "vulns": []}
VULNERABLE = {"name": "jinja2", "version": "3.1.0", "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}]}


def test_a_report_with_skipped_packages_is_not_a_pass() -> None:
    """pip-audit prints 'No known vulnerabilities found' for this report; the audit must not."""
    outcome = audit.classify("pypi", {"dependencies": [SKIPPED, CLEAN]})
    assert not outcome.complete and outcome.audited == 1 and "duckdb" in outcome.skipped[0]
    assert not audit.classify("pypi", {"dependencies": []}).complete  # nothing audited is no pass either


def test_findings_and_a_clean_report() -> None:
    found = audit.classify("osv", {"dependencies": [CLEAN, VULNERABLE]})
    assert found.complete and found.findings == ["jinja2 3.1.0: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)"]
    assert audit.classify("osv", {"dependencies": [CLEAN]}).findings == []


def test_every_exception_needs_a_reason(tmp_path: Path) -> None:
    exceptions = tmp_path / "audit-exceptions.txt"
    exceptions.write_text("# header\n\nGHSA-aaaa-bbbb-cccc  # never called by reewatch (review 2027-01)\n")
    assert audit.read_exceptions(exceptions) == ["GHSA-aaaa-bbbb-cccc"]
    exceptions.write_text("GHSA-aaaa-bbbb-cccc\n")
    with pytest.raises(SystemExit, match="no reason"):
        audit.read_exceptions(exceptions)
    assert audit.read_exceptions(ROOT / "audit-exceptions.txt") == []  # the committed file parses
