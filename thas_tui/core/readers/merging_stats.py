"""Reader of the `output.json=` of dials.scale and dials.merge: resolution bins and Table 1."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from thas_tui.core.readers._json import (
    as_list,
    integer,
    load_json,
    num,
    num_list,
    text_num,
    wrong_shape,
)

_WHAT = "dials.scale / dials.merge JSON output"
_PRODUCER = "dials.scale or dials.merge with output.json=NAME.json"

# Per-bin statistics: name -> key in dials.merge's `merging_stats` (iotbx dataset_statistics).
_MERGE_KEYS = {
    "n_obs": "n_obs",
    "n_uniq": "n_uniq",
    "multiplicity": "multiplicity",
    "completeness": "completeness",
    "i_mean": "i_mean",
    "i_over_sigma": "i_over_sigma_mean",
    "r_merge": "r_merge",
    "r_meas": "r_meas",
    "r_pim": "r_pim",
    "r_anom": "r_anom",
    "cc_half": "cc_one_half",
    "cc_half_critical": "cc_one_half_critical_value",
    "cc_anom": "cc_anom",
}

# Columns of the `resolution_binned` string table of both programs (dials.util.table format).
_TABLE_COLUMNS = {
    "N(obs)": "n_obs",
    "N(unique)": "n_uniq",
    "Multiplicity": "multiplicity",
    "Completeness": "completeness",
    "Mean I": "i_mean",
    "Mean I/σ(I)": "i_over_sigma",
    "R<sub>merge</sub>": "r_merge",
    "R<sub>meas</sub>": "r_meas",
    "R<sub>pim</sub>": "r_pim",
    "R<sub>anom</sub>": "r_anom",
    "CC<sub>½</sub>": "cc_half",
    "CC<sub>ano</sub>": "cc_anom",
}

# Rows of the `overall` string table (Overall / Low resolution / High resolution).
_TABLE1_ROWS = {
    "Observations": "n_obs",
    "Unique reflections": "n_uniq",
    "Multiplicity": "multiplicity",
    "Completeness": "completeness",
    "Mean I/σ(I)": "i_over_sigma",
    "R<sub>merge</sub>": "r_merge",
    "R<sub>meas</sub>": "r_meas",
    "R<sub>pim</sub>": "r_pim",
    "CC<sub>½</sub>": "cc_half",
}

BIN_FIELDS = (
    "n_obs",
    "n_uniq",
    "multiplicity",
    "completeness",
    "i_mean",
    "i_over_sigma",
    "r_merge",
    "r_meas",
    "r_pim",
    "r_anom",
    "cc_half",
    "cc_half_critical",
    "cc_anom",
    "anom_completeness",
    "anom_multiplicity",
)


@dataclass(frozen=True)
class ResolutionBins:
    """Statistics per resolution bin, low to high resolution; NaN where DIALS gave nothing.

    `values[name]` for name in BIN_FIELDS; completeness values are percentages.
    """

    d_max: np.ndarray
    d_min: np.ndarray
    values: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.d_min)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    @property
    def d_star_sq(self) -> np.ndarray:
        """Bin centre in 1/d² (Å⁻²), the x axis DIALS plots against."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return 0.5 * (1 / self.d_max**2 + 1 / self.d_min**2)


@dataclass(frozen=True)
class Table1Row:
    """One column of "Table 1": overall, lowest or highest resolution shell."""

    shell: str  # "overall", "low", "high"
    d_max: float | None
    d_min: float | None
    n_obs: int | None = None
    n_uniq: int | None = None
    completeness: float | None = None  # %
    multiplicity: float | None = None
    i_over_sigma: float | None = None
    r_merge: float | None = None
    r_meas: float | None = None
    r_pim: float | None = None
    cc_half: float | None = None
    cc_anom: float | None = None
    anom_completeness: float | None = None  # %
    anom_multiplicity: float | None = None


@dataclass(frozen=True)
class PlotSeries:
    """One plotly trace: name and x/y values (None where plotly had a gap)."""

    name: str
    x: tuple[Any, ...]
    y: tuple[float | None, ...]


@dataclass(frozen=True)
class Plot:
    """A plotly figure of the JSON reduced to its title, axis titles and traces."""

    title: str
    x_title: str
    y_title: str
    series: tuple[PlotSeries, ...]


@dataclass(frozen=True)
class MergingStats:
    """Merging statistics of a dials.merge or dials.scale JSON output."""

    path: Path
    program: str  # "dials.merge" or "dials.scale"
    bins: ResolutionBins
    table1: tuple[Table1Row, ...]  # overall, low, high (those found)
    summary: dict[str, str]  # overall_summary_data: "Completeness (%)": "99.9 (98.1)"
    plots: dict[str, Plot] = field(default_factory=dict)  # "section/name" -> Plot
    wavelength: float | None = None  # dials.merge keys its output by wavelength
    wavelengths: tuple[float, ...] = ()
    anomalous_bins: ResolutionBins | None = None  # dials.merge: anomalous-pairs-separate stats

    def shell(self, name: str) -> Table1Row | None:
        return next((r for r in self.table1 if r.shell == name), None)


# --- helpers --------------------------------------------------------------------------------


def _nan(xs: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in xs], dtype=float)


def _d_from_dss(x: Any) -> float | None:
    v = num(x)
    return 1.0 / math.sqrt(v) if v is not None and v > 0 else None


def _parse_range(s: Any) -> tuple[float | None, float | None]:
    """'5.40 - 1.50' -> (5.40, 1.50)."""
    if not isinstance(s, str) or "-" not in s.strip()[1:]:
        return None, None
    left, _, right = s.strip().partition(" - ")
    return text_num(left), text_num(right)


def _strip_html(s: Any) -> str:
    s = str(s)
    for tag in ("<strong>", "</strong>"):
        s = s.replace(tag, "")
    return s.strip()


def _plots(doc: dict) -> dict[str, Plot]:
    out: dict[str, Plot] = {}
    for section, figures in doc.items():
        if not isinstance(figures, dict):
            continue
        for name, fig in figures.items():
            if not isinstance(fig, dict) or not isinstance(fig.get("data"), list):
                continue
            layout = fig.get("layout") if isinstance(fig.get("layout"), dict) else {}
            series = []
            for tr in fig["data"]:
                if not isinstance(tr, dict) or not isinstance(tr.get("y"), list):
                    continue
                x = tr.get("x") if isinstance(tr.get("x"), list) else list(range(len(tr["y"])))
                series.append(
                    PlotSeries(str(tr.get("name") or ""), tuple(x), tuple(num_list(tr["y"])))
                )

            def axis_title(key: str, _layout: dict = layout) -> str:
                ax = _layout.get(key)
                t = ax.get("title") if isinstance(ax, dict) else None
                if isinstance(t, dict):
                    t = t.get("text")
                return str(t) if t else ""

            title = layout.get("title")
            if isinstance(title, dict):
                title = title.get("text")
            out[f"{section}/{name}"] = Plot(
                str(title or name), axis_title("xaxis"), axis_title("yaxis"), tuple(series)
            )
    return out


def _bins_from_merging_stats(ms: dict, anom: dict | None) -> ResolutionBins:
    lo = [_d_from_dss(x) for x in as_list(ms.get("d_star_sq_min"))]
    n = len(lo)
    hi = [_d_from_dss(x) for x in as_list(ms.get("d_star_sq_max"))][:n]
    d_min, d_max = _nan(lo), _nan(hi + [None] * (n - len(hi)))
    values: dict[str, np.ndarray] = {}
    for name, key in _MERGE_KEYS.items():
        col = num_list(ms.get(key))
        values[name] = _nan(col[:n] + [None] * (n - len(col)))
    ac: list[float | None] = [None] * n
    am: list[float | None] = [None] * n
    if isinstance(anom, dict):
        # anom_completeness is a fraction in iotbx (completeness is already a percentage).
        ac = [None if v is None else 100.0 * v for v in num_list(anom.get("anom_completeness"))]
        am = num_list(anom.get("multiplicity"))
        ac, am = (v[:n] + [None] * (n - len(v)) for v in (ac, am))
    values["anom_completeness"] = _nan(ac)
    values["anom_multiplicity"] = _nan(am)
    return ResolutionBins(d_max=d_max, d_min=d_min, values=values)


def _row_from_stats(shell: str, d: dict, anom: dict | None) -> Table1Row:
    ac = num(anom.get("anom_completeness")) if isinstance(anom, dict) else None
    return Table1Row(
        shell=shell,
        d_max=_d_from_dss(d.get("d_star_sq_max")),
        d_min=_d_from_dss(d.get("d_star_sq_min")),
        n_obs=integer(d.get("n_obs")),
        n_uniq=integer(d.get("n_uniq")),
        completeness=num(d.get("completeness")),
        multiplicity=num(d.get("multiplicity")),
        i_over_sigma=num(d.get("i_over_sigma_mean")),
        r_merge=num(d.get("r_merge")),
        r_meas=num(d.get("r_meas")),
        r_pim=num(d.get("r_pim")),
        cc_half=num(d.get("cc_one_half")),
        cc_anom=num(d.get("cc_anom")),
        anom_completeness=None if ac is None else 100.0 * ac,
        anom_multiplicity=num(anom.get("multiplicity")) if isinstance(anom, dict) else None,
    )


def _row_from_bin(shell: str, bins: ResolutionBins, i: int) -> Table1Row:
    def g(name: str) -> float | None:
        v = bins.values[name][i]
        return None if np.isnan(v) else float(v)

    def gi(name: str) -> int | None:
        v = g(name)
        return None if v is None else int(v)

    return Table1Row(
        shell=shell,
        d_max=None if np.isnan(bins.d_max[i]) else float(bins.d_max[i]),
        d_min=None if np.isnan(bins.d_min[i]) else float(bins.d_min[i]),
        n_obs=gi("n_obs"),
        n_uniq=gi("n_uniq"),
        completeness=g("completeness"),
        multiplicity=g("multiplicity"),
        i_over_sigma=g("i_over_sigma"),
        r_merge=g("r_merge"),
        r_meas=g("r_meas"),
        r_pim=g("r_pim"),
        cc_half=g("cc_half"),
        cc_anom=g("cc_anom"),
        anom_completeness=g("anom_completeness"),
        anom_multiplicity=g("anom_multiplicity"),
    )


def _bins_from_table(rows: Any) -> ResolutionBins:
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], list):
        return ResolutionBins(np.array([]), np.array([]), {f: np.array([]) for f in BIN_FIELDS})
    header = [str(h) for h in rows[0]]
    body = [r for r in rows[1:] if isinstance(r, list)]
    d_max, d_min = [], []
    for r in body:
        hi, lo = _parse_range(r[0] if r else None)
        d_max.append(hi)
        d_min.append(lo)
    values: dict[str, np.ndarray] = {}
    for f in BIN_FIELDS:
        values[f] = np.full(len(body), np.nan)
    for j, h in enumerate(header):
        name = _TABLE_COLUMNS.get(h)
        if name is None:
            continue
        values[name] = _nan([text_num(r[j]) if j < len(r) else None for r in body])
    return ResolutionBins(_nan(d_max), _nan(d_min), values)


def _table1_from_strings(rows: Any, summary: dict[str, str]) -> tuple[Table1Row, ...]:
    if not isinstance(rows, list) or len(rows) < 2:
        return ()
    cols: dict[str, dict[str, Any]] = {"overall": {}, "low": {}, "high": {}}
    for r in rows[1:]:
        if not isinstance(r, list) or len(r) < 4:
            continue
        label = _strip_html(r[0])
        for shell, cell in zip(("overall", "low", "high"), r[1:4], strict=False):
            if label.startswith("Resolution"):
                cols[shell]["d_max"], cols[shell]["d_min"] = _parse_range(cell)
            elif label in _TABLE1_ROWS:
                v = text_num(cell)
                name = _TABLE1_ROWS[label]
                cols[shell][name] = int(v) if v is not None and name in ("n_obs", "n_uniq") else v
    # The anomalous figures are only in the "overall (high)" summary strings of dials.scale.
    for key, name in (
        ("Anomalous completeness (%)", "anom_completeness"),
        ("Anomalous multiplicity", "anom_multiplicity"),
    ):
        s = summary.get(key)
        if isinstance(s, str):
            overall, _, high = s.partition("(")
            cols["overall"][name] = text_num(overall)
            cols["high"][name] = text_num(high.rstrip(")"))
    out = []
    for shell, kw in cols.items():
        if kw:
            kw.setdefault("d_max", None)
            kw.setdefault("d_min", None)
            out.append(Table1Row(shell=shell, **kw))
    return tuple(out)


# --- entry point ----------------------------------------------------------------------------


def read_merging_stats(path: str | Path, wavelength: float | None = None) -> MergingStats:
    """Read the JSON of dials.merge (`output.json=`) or dials.scale (`output.json=`).

    dials.merge's JSON is keyed by wavelength; the first (or the given `wavelength`) is read.
    Raises UnreadableFile if the file is not JSON or holds neither program's statistics.
    """
    path = Path(path)
    data = load_json(path, _WHAT, _PRODUCER)
    if not isinstance(data, dict):
        raise wrong_shape(path, _WHAT, _PRODUCER, f"top level is a {type(data).__name__}")
    if "scaling_tables" in data or "resolution_plots" in data:
        return _read_scale(path, data)
    # dials.merge: {"<wavelength>": {"merging_stats": ..., "scaling_tables": ..., ...}}
    keyed = {}
    for k, v in data.items():
        try:
            wl = float(k)
        except ValueError:
            continue
        if isinstance(v, dict):
            keyed[wl] = v
    if not keyed:
        raise wrong_shape(path, _WHAT, _PRODUCER, "no merging statistics found")
    wl = wavelength if wavelength in keyed else next(iter(keyed))
    return _read_merge(path, keyed[wl], wl, tuple(keyed))


def _summary(doc: dict) -> dict[str, str]:
    st = doc.get("scaling_tables")
    s = st.get("overall_summary_data") if isinstance(st, dict) else None
    return {str(k): str(v) for k, v in s.items()} if isinstance(s, dict) else {}


def _read_merge(path: Path, doc: dict, wl: float, wls: tuple[float, ...]) -> MergingStats:
    ms = doc.get("merging_stats")
    anom = doc.get("merging_stats_anom")
    summary = _summary(doc)
    plots = _plots({k: v for k, v in doc.items() if k.endswith("_plots")})
    if isinstance(ms, dict):
        bins = _bins_from_merging_stats(ms, anom if isinstance(anom, dict) else None)
        anom_bins = _bins_from_merging_stats(anom, anom) if isinstance(anom, dict) else None
        rows = []
        if isinstance(ms.get("overall"), dict):
            a_over = anom.get("overall") if isinstance(anom, dict) else None
            rows.append(_row_from_stats("overall", ms["overall"], a_over))
        if len(bins):
            # DIALS's Table 1 "Low"/"High" columns are the first and last resolution bins.
            rows.append(_row_from_bin("low", bins, 0))
            rows.append(_row_from_bin("high", bins, len(bins) - 1))
        table1 = tuple(rows)
    else:
        st = doc.get("scaling_tables") if isinstance(doc.get("scaling_tables"), dict) else {}
        bins = _bins_from_table(st.get("resolution_binned"))
        anom_bins = None
        table1 = _table1_from_strings(st.get("overall"), summary)
    return MergingStats(
        path=path,
        program="dials.merge",
        bins=bins,
        table1=table1,
        summary=summary,
        plots=plots,
        wavelength=wl,
        wavelengths=wls,
        anomalous_bins=anom_bins,
    )


def _read_scale(path: Path, doc: dict) -> MergingStats:
    st = doc.get("scaling_tables") if isinstance(doc.get("scaling_tables"), dict) else {}
    summary = _summary(doc)
    bins = _bins_from_table(st.get("resolution_binned"))
    # The anomalous per-bin values exist only as plot traces in dials.scale's JSON.
    plots = _plots({k: v for k, v in doc.items() if k.endswith("_plots") or k == "scaling_model"})
    for key, name, scale in (
        ("resolution_plots/completeness", "Anomalous completeness", 100.0),
        ("resolution_plots/multiplicity_vs_resolution", "Anomalous multiplicity", 1.0),
    ):
        plot = plots.get(key)
        tr = next((s for s in plot.series if s.name == name), None) if plot else None
        if tr is not None and len(tr.y) == len(bins):
            field_name = "anom_completeness" if "completeness" in key else "anom_multiplicity"
            bins.values[field_name] = _nan([None if v is None else v * scale for v in tr.y])
    return MergingStats(
        path=path,
        program="dials.scale",
        bins=bins,
        table1=_table1_from_strings(st.get("overall"), summary),
        summary=summary,
        plots=plots,
    )


def iotbx_statistics(
    doc: dict, anom: dict | None = None
) -> tuple[tuple[Table1Row, ...], ResolutionBins]:
    """Table 1 and bins of iotbx's `dataset_statistics.as_dict()` (iotbx.merging_statistics
    json.file_name=, and dials.merge's `merging_stats`): overall, first and last bin. ``anom``
    is the same program's anomalous=True output, read as dials.merge's `merging_stats_anom`."""
    anom = anom if isinstance(anom, dict) else None
    bins = _bins_from_merging_stats(doc, anom)
    a_over = anom.get("overall") if anom is not None else None
    rows = (
        [_row_from_stats("overall", doc["overall"], a_over if isinstance(a_over, dict) else None)]
        if isinstance(doc.get("overall"), dict)
        else []
    )
    if len(bins):
        rows += [_row_from_bin("low", bins, 0), _row_from_bin("high", bins, len(bins) - 1)]
    return tuple(rows), bins
