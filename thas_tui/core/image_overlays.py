"""Spots drawn over an image: strong, indexed or not, and predicted, read from the .refl files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers.refl import read_refl

INDEXED_FLAG = 1 << 2


@dataclass
class Spots:
    """Spot positions of one kind (pixels x, y of their panel; frame range [z0, z1) in array
    indices)."""

    kind: str
    x: np.ndarray
    y: np.ndarray
    z0: np.ndarray
    z1: np.ndarray
    imageset: np.ndarray
    indexed: np.ndarray | None = None
    hkl: np.ndarray | None = None
    panel: np.ndarray | None = None

    def on_frame(self, imageset: int, frame: int) -> np.ndarray:
        """Indices of the spots on array frame ``frame`` of ``imageset``."""
        return np.nonzero((self.imageset == imageset) & (self.z0 <= frame) & (frame < self.z1))[0]


def _spots(path: Path, kind: str, position: str) -> Spots | None:
    if not path.is_file():
        return None
    table = read_refl(
        path, (position, "bbox", "id", "imageset_id", "miller_index", "flags", "panel")
    )
    xyz = table.get(position)
    if xyz is None or len(xyz) == 0:
        return None
    keep = np.ones(len(xyz), dtype=bool)
    panel = table.get("panel")
    bbox = table.get("bbox")
    if bbox is not None and kind != "predicted":
        z0, z1 = bbox[:, 4], bbox[:, 5]
    else:
        z0 = np.floor(xyz[:, 2]).astype(np.int64)
        z1 = z0 + 1
    iset = table.get("imageset_id")
    if iset is None:
        ids = table.get("id")
        iset = ids if ids is not None else np.zeros(len(xyz), dtype=np.int64)
    flags = table.get("flags")
    hkl = table.get("miller_index")
    indexed = None
    if kind == "indexed" and flags is not None:
        indexed = (flags & INDEXED_FLAG) != 0
    return Spots(
        kind=kind,
        x=xyz[keep, 0],
        y=xyz[keep, 1],
        z0=np.asarray(z0)[keep],
        z1=np.asarray(z1)[keep],
        imageset=np.asarray(iset)[keep],
        indexed=indexed[keep] if indexed is not None else None,
        hkl=hkl[keep] if hkl is not None else None,
        panel=np.asarray(panel)[keep].astype(np.int64) if panel is not None else None,
    )


def read_overlays(workdir: Path) -> tuple[dict[str, Spots], list[str]]:
    """The spot sets of ``workdir`` (indexed replaces strong once indexing has run) and the
    problems met reading them (an unreadable file leaves its overlay out, nothing else)."""
    out: dict[str, Spots] = {}
    problems: list[str] = []
    for name, kind, position in (
        ("indexed.refl", "indexed", "xyzobs.px.value"),
        ("strong.refl", "strong", "xyzobs.px.value"),
        ("integrated.refl", "predicted", "xyzcal.px"),
    ):
        if kind == "strong" and "spots" in out:
            continue
        try:
            spots = _spots(workdir / name, kind, position)
        except (UnreadableFile, OSError) as exc:
            problems.append(str(exc).splitlines()[0])
            continue
        if spots is not None:
            out["predicted" if kind == "predicted" else "spots"] = spots
    return out, problems
