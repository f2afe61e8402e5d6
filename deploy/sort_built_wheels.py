"""Move the wheels that were built here, not downloaded, into <wheelhouse>/built/.

A package published only as source (python-ldap) is hash-checked as that source archive when
`pip wheel --require-hashes` builds it; the wheel it becomes has a hash no lock can know. The final
install therefore takes built/ first (--no-deps, already checked at their source) and then every
downloaded wheel against the lock's hashes with --require-hashes.

usage: python3 deploy/sort_built_wheels.py WHEELHOUSE LOCK [LOCK ...]
"""

import hashlib
import re
import sys
from pathlib import Path


def main(wheelhouse: Path, locks: list[Path]) -> None:
    known = {h for lock in locks for h in re.findall(r"--hash=sha256:([0-9a-f]{64})", lock.read_text())}
    built = wheelhouse / "built"
    built.mkdir(exist_ok=True)
    for wheel in sorted(wheelhouse.glob("*.whl")):
        if hashlib.sha256(wheel.read_bytes()).hexdigest() not in known:
            wheel.rename(built / wheel.name)
            print(f"built here (checked at its source): {wheel.name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
