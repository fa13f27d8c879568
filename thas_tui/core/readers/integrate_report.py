"""Reader of dials.integrate's `output.report=` JSON: per-image, per-resolution and overall tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from thas_tui.core.readers._json import load_json, text_num, wrong_shape

_WHAT = "integration report (dials.integrate output.report=)"
_PRODUCER = "dials.integrate with output.report=integration_report.json"

# Column keys of the per-image and per-resolution tables (dials/algorithms/integration/report.py).
TABLE_COLUMNS = (
    "n_full",
    "n_part",
    "n_over",
    "n_ice",
    "n_sum",
    "n_prf",
    "ibg",
    "ios_sum",
    "ios_prf",
    "cc_prf",
    "rmsd_xy",
)


@dataclass(frozen=True)
class IntegrationTable:
    """A per-image or per-resolution table as numpy columns (NaN for blank cells)."""

    title: str
    experiment_id: np.ndarray  # int
    key: np.ndarray  # image number, or d_min (Å) of the resolution bin
    columns: dict[str, np.ndarray]
    labels: dict[str, str] = field(default_factory=dict)  # DIALS's column headings

    def __len__(self) -> int:
        return len(self.key)

    def for_experiment(self, exp_id: int) -> IntegrationTable:
        sel = self.experiment_id == exp_id
        return IntegrationTable(
            self.title,
            self.experiment_id[sel],
            self.key[sel],
            {k: v[sel] for k, v in self.columns.items()},
            self.labels,
        )


@dataclass(frozen=True)
class OverallSummary:
    """The "Summary for experiment N" table: item -> (overall, low, high)."""

    title: str
    items: dict[str, tuple[float | None, float | None, float | None]]


@dataclass(frozen=True)
class ProfileModelRow:
    """One reference profile of the gaussian_rs profile model summary."""

    experiment_id: int | None
    profile: int | None
    created: bool
    x: float | None
    y: float | None
    z: float | None
    n_reflections: int | None


@dataclass(frozen=True)
class IntegrationReport:
    """dials.integrate's report. σb and σm are not in it: read them from integrated.expt."""

    path: Path
    per_image: IntegrationTable | None
    per_resolution: IntegrationTable | None
    overall: OverallSummary | None
    profiles: tuple[ProfileModelRow, ...] = ()


def _table(d: Any, key_name: str) -> IntegrationTable | None:
    if not isinstance(d, dict) or not isinstance(d.get("rows"), list):
        return None
    rows = [r for r in d["rows"] if isinstance(r, dict)]
    cols = d.get("cols") if isinstance(d.get("cols"), dict) else {}

    def col(name: str) -> np.ndarray:
        return np.array(
            [np.nan if (v := text_num(r.get(name))) is None else v for r in rows], dtype=float
        )

    ids = col("id")
    return IntegrationTable(
        title=str(d.get("title", "")),
        # Non-finite or absurd ids (damaged file) become -1 rather than an undefined cast.
        experiment_id=np.where(np.isfinite(ids) & (np.abs(ids) < 2**31), ids, -1).astype(int),
        key=col(key_name),
        columns={c: col(c) for c in TABLE_COLUMNS},
        labels={str(k): str(v) for k, v in cols.items()},
    )


def read_integration_report(path: str | Path) -> IntegrationReport:
    """Read an integration report JSON; UnreadableFile if not JSON or not such a report."""
    path = Path(path)
    doc = load_json(path, _WHAT, _PRODUCER)
    tables = doc.get("tables") if isinstance(doc, dict) else None
    if not isinstance(tables, dict):
        raise wrong_shape(path, _WHAT, _PRODUCER, "no 'tables'")
    overall = None
    ov = tables.get("integration.overall.summary")
    if isinstance(ov, dict) and isinstance(ov.get("rows"), list):
        items = {}
        for r in ov["rows"]:
            if isinstance(r, dict) and isinstance(r.get("item"), str):
                items[r["item"]] = (
                    text_num(r.get("overall")),
                    text_num(r.get("low")),
                    text_num(r.get("high")),
                )
        overall = OverallSummary(title=str(ov.get("title", "")), items=items)
    profiles = []
    ps = tables.get("profile.summary")
    if isinstance(ps, dict) and isinstance(ps.get("rows"), list):
        for r in ps["rows"]:
            if not isinstance(r, dict):
                continue
            eid, prof, n = (text_num(r.get(k)) for k in ("id", "profile", "n_reflections"))
            profiles.append(
                ProfileModelRow(
                    experiment_id=None if eid is None else int(eid),
                    profile=None if prof is None else int(prof),
                    created=str(r.get("created")) == "True",
                    x=text_num(r.get("x")),
                    y=text_num(r.get("y")),
                    z=text_num(r.get("z")),
                    n_reflections=None if n is None else int(n),
                )
            )
    return IntegrationReport(
        path=path,
        per_image=_table(tables.get("integration.image.summary"), "image"),
        per_resolution=_table(tables.get("integration.resolution.summary"), "dmin"),
        overall=overall,
        profiles=tuple(profiles),
    )
