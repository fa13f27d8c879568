"""Whether a process recorded in a journal or lock is still running on this host."""

from __future__ import annotations

import os


def pid_alive(pid: int | None) -> bool:
    """True while ``pid`` runs here (a zombie, finished but not reaped, counts as ended)."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, but belongs to someone else
    except (OverflowError, ValueError, OSError):
        return False
    # A dashboard that was killed never reaps its DIALS child: the zombie has finished.
    try:
        with open(f"/proc/{int(pid)}/stat") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
