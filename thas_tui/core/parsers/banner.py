"""The `DIALS x.y` banner: version string and a comparable tuple."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .common import iter_lines

# "DIALS 3.12", "DIALS 2.2.11-gad03a188b-release", "DIALS 3.dev.1460-g45cb58d0ee-release",
# "DIALS 3.dev"; the banner may follow a citation line ("DIALS (2018) Acta Cryst. ...").
_BANNER = re.compile(
    r"DIALS (?P<major>\d+)\.(?P<minor>dev|\d+)(?:\.(?P<patch>\d+))?"
    r"(?:-g(?P<commit>[0-9a-f]+))?(?P<rest>-\S+)?\s*$"
)


@dataclass
class Banner:
    """A parsed DIALS banner.

    `version` is the text after "DIALS "; `number` drops the git suffix; `version_tuple` is
    (major, minor[, patch]) for releases and (major, "dev"[, commits]) for development builds.
    """

    version: str
    number: str
    version_tuple: tuple[int | str, ...]
    is_dev: bool
    commit: str | None = None


def parse_version(text: str) -> Banner | None:
    """Parse a version such as '3.12' or 'DIALS 3.dev.1460-g45cb58d0ee-release'."""
    s = text.strip()
    if not s.startswith("DIALS "):
        s = "DIALS " + s
    m = _BANNER.match(s)
    if not m:
        return None
    major = int(m["major"])
    minor = m["minor"]
    patch = m["patch"]
    is_dev = minor == "dev"
    parts: list[int | str] = [major, "dev" if is_dev else int(minor)]
    if patch is not None:
        parts.append(int(patch))
    number = ".".join(str(p) for p in parts)
    version = s[len("DIALS ") :].split()[0]
    return Banner(
        version=version,
        number=number,
        version_tuple=tuple(parts),
        is_dev=is_dev,
        commit=m["commit"],
    )


def parse(text: str) -> Banner | None:
    """The banner of a DIALS log or stdout (looked for in the first 20 lines)."""
    for i, line in enumerate(iter_lines(text)):
        if i >= 20:
            break
        s = line.strip()
        if s.startswith("DIALS ") and s[6:7].isdigit():
            banner = parse_version(s)
            if banner:
                return banner
    return None
