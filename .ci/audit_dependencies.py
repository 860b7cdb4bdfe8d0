"""pip-audit on the lock files, with a stated policy for when the vulnerability data is missing.

pip-audit asks PyPI's JSON API (``/pypi/<name>/<version>/json``) for the known
vulnerabilities of each pinned version. ``--no-deps --disable-pip`` audits exactly the pins in
``requirements-dev.lock`` (which includes ``requirements.lock``): nothing is resolved, installed
or upgraded. The outcomes:

- a known vulnerability that is not in ``IGNORED``: exit 1, always (CI goes red);
- every pin audited, nothing found: exit 0;
- some pins not audited (PyPI unreachable after ``TRIES`` tries, or not answering for a
  version): a loud ``NOT AUDITED`` block naming them, and exit 0, so a PyPI outage does not
  fail every build; ``SLUICE_AUDIT_REQUIRED=1`` (for release builds) makes that exit 2.

So a vulnerability PyPI reported is never passed; one PyPI could not be asked about passes
only with the warning in the log.
"""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404 # runs pip-audit with a fixed argument list, no shell
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "requirements-dev.lock"
TRIES = 3
BACKOFF_SECONDS = (5, 20)
#: Vulnerability ids accepted on purpose: id -> why it does not apply. Empty: none so far.
IGNORED: dict[str, str] = {}
#: Words in pip-audit's traceback that mean "the vulnerability service could not be reached".
NETWORK_ERRORS = ("ConnectionError", "ConnectTimeout", "ReadTimeout", "ProxyError", "SSLError")


@dataclass
class Outcome:
    vulnerable: list[str] = field(default_factory=list)
    not_audited: list[str] = field(default_factory=list)
    audited: int = 0
    unreachable: bool = False


def read_report(report: dict) -> Outcome:
    """What a pip-audit JSON report says: vulnerable pins, pins it could not audit."""
    outcome = Outcome()
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            outcome.not_audited.append(f"{dependency['name']}: {dependency['skip_reason']}")
            continue
        outcome.audited += 1
        pin = f"{dependency['name']}=={dependency['version']}"
        for vuln in dependency.get("vulns", []):
            if vuln["id"] in IGNORED:
                continue
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed version"
            outcome.vulnerable.append(f"{pin}: {vuln['id']} (fixed in {fixes})")
    return outcome


def run_pip_audit() -> Outcome:
    """One pip-audit run; a service that cannot be reached means every pin is not audited."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "report.json"
        command = [
            sys.executable, "-m", "pip_audit", "-r", str(LOCK), "--no-deps", "--disable-pip",
            "--format", "json", "--output", str(output), "--progress-spinner", "off",
            "--timeout", "15",
        ]  # fmt: skip
        for vuln_id in IGNORED:
            command += ["--ignore-vuln", vuln_id]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # nosec B603 # fixed argv, no shell
        if output.exists():
            return read_report(json.loads(output.read_text()))
    if any(word in done.stderr for word in NETWORK_ERRORS):
        last = done.stderr.strip().splitlines()[-1][:300] if done.stderr.strip() else ""
        reason = f"every pin: vulnerability service unreachable ({last})"
        return Outcome(not_audited=[reason], unreachable=True)
    raise SystemExit(f"pip-audit failed (exit {done.returncode}):\n{done.stderr}")


def main() -> int:
    outcome = run_pip_audit()
    for wait in BACKOFF_SECONDS[: TRIES - 1]:
        if not outcome.unreachable:
            break
        print(f"pip-audit: vulnerability service unreachable; retrying in {wait} s")
        time.sleep(wait)
        outcome = run_pip_audit()
    if outcome.vulnerable:
        print("pip-audit: KNOWN VULNERABILITIES in the locked dependencies:")
        print("\n".join(f"  {line}" for line in outcome.vulnerable))
        print("Upgrade the pin, or add the id to IGNORED in .ci/audit_dependencies.py with why.")
        return 1
    if outcome.not_audited:
        print("=" * 78)
        print(f"pip-audit: NOT AUDITED ({outcome.audited} pins audited, nothing found in those).")
        print("PyPI's vulnerability data could not be had for:")
        print("\n".join(f"  {line}" for line in outcome.not_audited[:10]))
        if len(outcome.not_audited) > 10:
            print(f"  ... and {len(outcome.not_audited) - 10} more")
        print("=" * 78)
        return 2 if os.environ.get("SLUICE_AUDIT_REQUIRED") == "1" else 0
    print(f"pip-audit: {outcome.audited} locked dependencies audited, no known vulnerability")
    return 0


if __name__ == "__main__":
    sys.exit(main())
