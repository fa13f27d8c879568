"""Table 1 shells (overall, low, high) in one shape for every program's reported statistics."""

from __future__ import annotations

from dataclasses import dataclass, fields

# The keys of `thas-tui summary --json`'s `scale.overall`, then the within-I+/I- R values.
SHELL_KEYS = (
    "d_max",
    "d_min",
    "completeness",
    "multiplicity",
    "i_over_sigma",
    "r_merge",
    "r_meas",
    "r_pim",
    "cc_half",
    "anom_completeness",
    "anom_multiplicity",
    "anom_correlation",
    "cc_anom",
    "n_obs",
    "n_unique",
    "r_merge_anom",
    "r_meas_anom",
    "r_pim_anom",
)

SHELL_NAMES = ("overall", "low", "high")


@dataclass(frozen=True)
class Shell:
    """One column of Table 1; None where the program did not report the value.

    R values are over all I+ and I- together (DIALS's `Rmeas(I)`, aimless's "all I+ and I-");
    the `*_anom` ones keep I+ and I- apart (aimless's "within I+/I-", xia2's `Rmeas(I+/-)`).
    Completeness values are percentages.
    """

    d_max: float | None = None
    d_min: float | None = None
    completeness: float | None = None
    multiplicity: float | None = None
    i_over_sigma: float | None = None
    r_merge: float | None = None
    r_meas: float | None = None
    r_pim: float | None = None
    cc_half: float | None = None
    anom_completeness: float | None = None
    anom_multiplicity: float | None = None
    anom_correlation: float | None = None
    cc_anom: float | None = None
    n_obs: int | None = None
    n_unique: int | None = None
    r_merge_anom: float | None = None
    r_meas_anom: float | None = None
    r_pim_anom: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


@dataclass(frozen=True)
class Shells:
    """Overall, lowest and highest resolution shell."""

    overall: Shell = Shell()
    low: Shell = Shell()
    high: Shell = Shell()

    def __getitem__(self, name: str) -> Shell:
        return getattr(self, name)

    @property
    def empty(self) -> bool:
        return self.overall.empty and self.low.empty and self.high.empty

    def as_dict(self) -> dict[str, dict[str, float | int | None]]:
        return {name: self[name].as_dict() for name in SHELL_NAMES}


def shells_from_columns(columns: dict[str, list[float | None]]) -> Shells:
    """Shells from `{key: [overall, low, high]}` (short lists give None)."""
    per: dict[str, dict[str, float | int | None]] = {n: {} for n in SHELL_NAMES}
    for key, values in columns.items():
        if key not in SHELL_KEYS:
            continue
        for i, name in enumerate(SHELL_NAMES):
            v = values[i] if i < len(values) else None
            if v is not None and key in ("n_obs", "n_unique"):
                v = int(v)
            per[name][key] = v
    return Shells(**{n: Shell(**per[n]) for n in SHELL_NAMES})
