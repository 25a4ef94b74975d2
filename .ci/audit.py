"""Audit the pinned dependencies for known vulnerabilities with pip-audit, and apply our policy.

Run by ``make audit`` with the audit tool venv's Python: ``python .ci/audit.py requirements.txt``.

Policy (docs/security.md): a vulnerability that has a fixed version fails the audit (exit 1:
raise the pin); one with no fix yet is listed and does not fail. pip-audit reports a package
it could not look up as *skipped*, not as safe, so a run where most packages were skipped
(the vulnerability service is unreachable) fails with exit 2 — nothing was audited.
``SYNTH_AUDIT_SERVICE`` picks the service (``pypi``, the default, or ``osv``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

#: Share of packages that may be skipped before the run counts as "not audited".
MAX_SKIPPED_SHARE = 0.1


def run_pip_audit(requirements: Path, service: str) -> dict[str, object]:
    """Run pip-audit on the pinned file (no resolution: the pins are the lock) as JSON."""
    tool = Path(sys.executable).with_name("pip-audit")
    command = [str(tool), "-r", str(requirements), "--no-deps", "--disable-pip"]
    command += ["-s", service, "-f", "json", "--progress-spinner", "off"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if not done.stdout.strip():
        sys.stderr.write(done.stderr)
        raise SystemExit(2)
    report: dict[str, object] = json.loads(done.stdout)
    return report


def main(argv: list[str]) -> int:
    """Audit, print findings, return the exit status of the policy."""
    requirements = Path(argv[0] if argv else "requirements.txt")
    service = os.environ.get("SYNTH_AUDIT_SERVICE", "pypi")
    report = run_pip_audit(requirements, service)
    dependencies = report["dependencies"]
    assert isinstance(dependencies, list)
    skipped = [d["name"] for d in dependencies if d.get("skip_reason")]
    fixable, unfixed = [], []
    for dependency in dependencies:
        for vuln in dependency.get("vulns", []):
            line = f"{dependency['name']}=={dependency['version']}: {vuln['id']}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                unfixed.append(f"{line} (no fix released)")
    audited = len(dependencies) - len(skipped)
    sys.stdout.write(
        f"pip-audit ({service}): {audited} of {len(dependencies)} pinned packages audited, "
        f"{len(fixable)} fixable and {len(unfixed)} unfixed vulnerabilities\n"
    )
    for line in [*fixable, *unfixed]:
        sys.stdout.write(f"  {line}\n")
    if len(skipped) > MAX_SKIPPED_SHARE * max(len(dependencies), 1):
        sys.stdout.write(
            f"not audited: {len(skipped)} packages could not be looked up "
            f"(is the {service} vulnerability service reachable?)\n"
        )
        return 2
    return 1 if fixable else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
