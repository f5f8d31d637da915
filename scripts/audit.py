#!/usr/bin/env python3
"""Audit the locked dependencies (uv.lock) for known vulnerabilities with pip-audit: `make audit`.

Exit codes: 0 every locked package was checked and nothing unignored was found; 1 vulnerabilities found;
2 the audit could not be done (no vulnerability service answered for every package). A partial audit is never
reported as a pass: pip-audit's PyPI service skips a package it cannot look up and still prints "No known
vulnerabilities found", so this script counts the skipped packages itself.

Exceptions live in audit-exceptions.txt: one vulnerability id per line, then `#` and why it does not apply to
reewatch, who decided and when to look again.

Usage::

    python scripts/audit.py [--requirements FILE] [--services osv,pypi]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXCEPTIONS = ROOT / "audit-exceptions.txt"
PIP_AUDIT = "pip-audit==2.10.1"  # run by `uv tool run`, so that it and its dependencies stay out of uv.lock
UV = ["uv"] if shutil.which("uv") else [sys.executable, "-m", "uv"]  # as the Makefile finds it


@dataclass
class Outcome:
    service: str
    audited: int = 0
    skipped: list[str] = field(default_factory=list)  # "name version: why"
    findings: list[str] = field(default_factory=list)  # "name version: ID (fixed in …)"
    error: str = ""  # why the service gave no answer at all

    @property
    def complete(self) -> bool:
        return not self.error and not self.skipped and self.audited > 0


def read_exceptions(path: Path) -> list[str]:
    """Vulnerability ids to ignore; every line must say why after a '#'."""
    ids = []
    if not path.exists():
        return ids
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text, _, why = line.partition("#")
        if not text.strip():
            continue
        if not why.strip():
            raise SystemExit(f"{path.name} line {number}: {text.strip()} has no reason after '#'")
        ids.append(text.strip())
    return ids


def classify(service: str, report: dict[str, object]) -> Outcome:
    """Read pip-audit's JSON report: what was audited, skipped, found."""
    outcome = Outcome(service)
    dependencies = report.get("dependencies", [])
    assert isinstance(dependencies, list)
    for dependency in dependencies:
        name = f"{dependency.get('name')} {dependency.get('version', '')}".strip()
        if "skip_reason" in dependency:
            outcome.skipped.append(f"{name}: {dependency['skip_reason']}")
            continue
        outcome.audited += 1
        for vuln in dependency.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            outcome.findings.append(f"{name}: {vuln.get('id')} (fixed in {fixed})")
    return outcome


def run_service(service: str, requirements: Path, ignored: list[str]) -> Outcome:
    with tempfile.TemporaryDirectory() as work:
        report_path = Path(work) / "report.json"
        command = [
            *UV, "tool", "run", "--from", PIP_AUDIT, "pip-audit", "--requirement", str(requirements), "--no-deps",
            "--disable-pip", "--vulnerability-service", service, "--format", "json", "--output", str(report_path),
            "--progress-spinner", "off", *(arg for vuln in ignored for arg in ("--ignore-vuln", vuln)),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if not report_path.exists() or not report_path.read_text():
            last = [line for line in done.stderr.splitlines() if line.strip()][-1:] or [f"exit {done.returncode}"]
            return Outcome(service, error=last[0][:300])
        return classify(service, json.loads(report_path.read_text()))


def locked_requirements(target: Path) -> int:
    """uv.lock as a pinned requirements file (no hashes: --no-deps audits exactly these pins); the count."""
    done = subprocess.run(
        [*UV, "export", "--frozen", "--no-hashes", "--no-emit-project", "--all-groups", "--output-file", str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"uv export failed: {done.stderr.strip()}")
    return sum(1 for line in target.read_text().splitlines() if line and not line.startswith((" ", "#")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=Path, help="audit this pinned file instead of uv.lock's export")
    parser.add_argument("--services", default="osv,pypi", help="vulnerability services to try, in order")
    args = parser.parse_args()
    ignored = read_exceptions(EXCEPTIONS)
    with tempfile.TemporaryDirectory() as work:
        requirements = args.requirements or Path(work) / "requirements.txt"
        pinned = locked_requirements(requirements) if args.requirements is None else None
        outcomes = []
        for service in args.services.split(","):
            outcome = run_service(service, requirements, ignored)
            outcomes.append(outcome)
            if outcome.complete:
                break
    done = next((o for o in outcomes if o.complete), None)
    if done is not None and pinned is not None and done.audited != pinned:
        done.error = f"{done.audited} packages audited of {pinned} locked"
        done = None
    if done is None:
        print("AUDIT NOT DONE: no vulnerability service answered for every locked package.", file=sys.stderr)
        for o in outcomes:
            skipped = f"{len(o.skipped)} of {len(o.skipped) + o.audited} packages skipped, e.g. {o.skipped[:1]}"
            reason = o.error or skipped
            print(f"  {o.service}: {reason}", file=sys.stderr)
        print("Nothing is known about the vulnerabilities of these dependencies: this is not a pass.", file=sys.stderr)
        return 2
    checked = f"{done.audited} packages" + (f" (of {pinned} locked)" if pinned else "")
    if ignored:
        print(f"ignored as documented in {EXCEPTIONS.name}: {', '.join(ignored)}")
    if done.findings:
        print(f"{len(done.findings)} known vulnerabilities in {checked}, service {done.service}:")
        print("\n".join(f"  {finding}" for finding in done.findings))
        return 1
    print(f"no known vulnerabilities in {checked} (service {done.service})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
