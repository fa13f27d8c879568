"""A session as rows: the table's columns, the lab-notebook summary, and headless lines."""

from __future__ import annotations

import json
from pathlib import Path

from thas_tui.core.session.model import Dataset, DState

# Row keys of `thas-tui session --summary --json`, in order.
SUMMARY_KEYS = (
    "name",
    "template",
    "images",
    "images_expected",
    "state",
    "reason",
    "mean_spots",
    "d_min_estimate",
    "space_group",
    "unit_cell",
    "d_min",
    "cc_half",
    "completeness",
    "processing_dir",
)


def state_text(ds: Dataset, n_stages: int) -> str:
    """``processing 7/11 integrate``, ``failed``, ``collecting``."""
    if ds.state is DState.PROCESSING:
        if ds.stage:
            return f"processing {ds.stage_n}/{n_stages} {ds.stage}"
        return "processing"
    return ds.state.value


def row(ds: Dataset, n_stages: int) -> dict:
    """One dataset as a JSON-ready dict (keys :data:`SUMMARY_KEYS`)."""
    r = ds.results
    return {
        "name": ds.name,
        "template": ds.files.master or (ds.files.template.pattern if ds.files.template else None),
        "images": ds.n_present,
        "images_expected": ds.expected,
        "state": state_text(ds, n_stages),
        "reason": ds.reason or None,
        "mean_spots": round(ds.mean_spots(), 1) if ds.mean_spots() is not None else None,
        "d_min_estimate": round(ds.d_min_estimate(), 2) if ds.d_min_estimate() else None,
        "space_group": r.get("space_group"),
        "unit_cell": r.get("unit_cell"),
        "d_min": round(r["d_min"], 2) if r.get("d_min") is not None else None,
        "cc_half": round(r["cc_half"], 4) if r.get("cc_half") is not None else None,
        "completeness": round(r["completeness"], 1) if r.get("completeness") is not None else None,
        "processing_dir": str(ds.proc_dir) if Path(ds.proc_dir).exists() else None,
    }


def _fmt(value, spec: str = "") -> str:
    if value is None:
        return "–"
    return format(value, spec) if spec else str(value)


def render_text(rows: list[dict]) -> str:
    """The summary as an aligned text table, for a terminal or a lab notebook."""
    if not rows:
        return "no datasets found"
    head = (
        "dataset",
        "images",
        "state",
        "spots/img",
        "est. d",
        "space group",
        "cell",
        "d_min",
        "CC½",
        "compl.",
    )
    body = []
    for r in rows:
        cell = " ".join(f"{v:.1f}" for v in r["unit_cell"][:3]) if r.get("unit_cell") else "–"
        body.append(
            (
                r["name"],
                str(r["images"]) + (f"/{r['images_expected']}" if r.get("images_expected") else ""),
                r["state"],
                _fmt(r["mean_spots"], ".0f"),
                _fmt(r["d_min_estimate"], ".2f"),
                _fmt(r["space_group"]),
                cell,
                _fmt(r["d_min"], ".2f"),
                _fmt(r["cc_half"], ".3f"),
                _fmt(r["completeness"], ".1f"),
            )
        )
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()]
    for b, r in zip(body, rows, strict=True):
        lines.append("  ".join(v.ljust(w) for v, w in zip(b, widths, strict=True)).rstrip())
        if r.get("reason") and r["state"] in ("failed", "waiting"):
            lines.append(f"    {r['reason']}")
    return "\n".join(lines)


def render_json(rows: list[dict], data_dir: Path, proc_root: Path) -> str:
    return json.dumps(
        {"data_dir": str(data_dir), "proc_root": str(proc_root), "datasets": rows},
        indent=2,
        ensure_ascii=False,
    )
