"""Check every pin in the lock files against a vulnerability database, and fail loudly when a
pin cannot be checked.

pip-audit asks PyPI's vulnerability data about each pinned release. A pin it cannot check
(PyPI's per-release API unreachable, a package it cannot find) is only "skipped" by pip-audit,
which would still end with "No known vulnerabilities found": a green run that checked
nothing. So each skipped pin gets a second look through PyPI's per-project API, whose
`vulnerabilities` describe the latest release; a pin that is not the latest release cannot be
checked that way either, and is reported as unchecked. Anything vulnerable or unchecked fails
the run, saying which pins and what to do.

Usage: python .ci/audit_locks.py requirements/main.lock requirements/dev.lock
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", re.MULTILINE)
PROJECT_API = "https://pypi.org/pypi/{name}/json"


def pins(lock: Path) -> dict[str, str]:
    return {name.lower(): version for name, version in PIN.findall(lock.read_text())}


def pip_audit(lock: Path) -> list[dict[str, object]]:
    """pip-audit's verdict for each pin (its JSON `dependencies`)."""
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("pip-audit")),
            "--require-hashes",
            "--disable-pip",
            "--progress-spinner=off",
            "-r",
            str(lock),
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return list(json.loads(result.stdout)["dependencies"])
    except (ValueError, KeyError):
        sys.exit(f"pip-audit could not audit {lock}:\n{result.stderr.strip()}")


def second_look(name: str, version: str) -> tuple[list[str] | None, str]:
    """(vulnerability ids, or None when this pin cannot be checked; why)."""
    try:
        with urllib.request.urlopen(PROJECT_API.format(name=name), timeout=20) as response:
            project = json.load(response)
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        return None, f"PyPI could not be asked ({exc})"
    latest = project.get("info", {}).get("version")
    if latest != version:
        return None, f"only the latest release ({latest}) can be checked here"
    found = [
        str(vuln.get("id"))
        for vuln in project.get("vulnerabilities") or []
        if not vuln.get("withdrawn")
    ]
    return found, ""


def main(locks: list[str]) -> int:
    vulnerable: list[str] = []
    unchecked: list[str] = []
    checked = 0
    for lock in map(Path, locks):
        pinned = pins(lock)
        for dependency in pip_audit(lock):
            name = str(dependency["name"]).lower()
            version = pinned.get(name, str(dependency.get("version", "?")))
            if "skip_reason" not in dependency:
                checked += 1
                vulns = [str(v["id"]) for v in dependency.get("vulns", [])]  # type: ignore[union-attr]
            else:
                found, why = second_look(name, version)
                if found is None:
                    unchecked.append(f"{lock.name}: {name}=={version}: {why}")
                    continue
                checked += 1
                vulns = found
            if vulns:
                vulnerable.append(f"{lock.name}: {name}=={version}: {', '.join(vulns)}")
    for line in vulnerable:
        print(f"VULNERABLE  {line}")
    for line in unchecked:
        print(f"UNCHECKED   {line}")
    if vulnerable:
        print("Move these pins past the fixed releases: make lock upgrade=1, then make test.")
    if unchecked:
        print(
            "These pins could not be checked against a vulnerability database, so this run "
            "proves nothing about them. Bring them to their latest releases (make lock "
            "upgrade=1) or run the audit where PyPI's vulnerability API is reachable."
        )
    if vulnerable or unchecked:
        return 1
    print(f"No known vulnerabilities in {checked} pins ({', '.join(locks)}).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
