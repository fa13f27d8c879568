"""The image view's small dialogs: go to image N, resolution range, confirm; find_spots' PHIL."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

# find_spots' PHIL names of the threshold parameters the image view edits.
FIND_SPOTS_PHIL = {
    "algorithm": "spotfinder.threshold.algorithm",
    "gain": "spotfinder.threshold.dispersion.gain",
    "kernel_size": "spotfinder.threshold.dispersion.kernel_size",
    "sigma_background": "spotfinder.threshold.dispersion.sigma_background",
    "sigma_strong": "spotfinder.threshold.dispersion.sigma_strong",
    "global_threshold": "spotfinder.threshold.dispersion.global_threshold",
    "min_local": "spotfinder.threshold.dispersion.min_local",
}


def find_spots_tokens(params: dict) -> list[str]:
    """The threshold parameters as find_spots PHIL ``key=value`` tokens."""
    out = []
    for name, phil in FIND_SPOTS_PHIL.items():
        value = params[name]
        if name == "kernel_size":
            value = ",".join(str(int(v)) for v in value)
        out.append(f"{phil}={value}")
    return out


def merge_tokens(old: list[str], new: list[str]) -> list[str]:
    """``old`` with each key of ``new`` replaced (or appended)."""
    keys = {t.split("=", 1)[0] for t in new}
    return [t for t in old if t.split("=", 1)[0] not in keys] + new


class _Dialog(ModalScreen):
    DEFAULT_CSS = """
    _Dialog { align: center middle; }
    _Dialog > Vertical {
        width: 64; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    _Dialog Horizontal { height: auto; }
    _Dialog .field { height: 3; }
    _Dialog .field Label { width: 20; padding: 1 1 0 0; }
    _Dialog .field Input, _Dialog .field Select { width: 1fr; }
    _Dialog #problem { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def problem(self, text: str) -> None:
        self.query_one("#problem", Label).update(text)


class GotoImage(_Dialog):
    """Returns the image number (1-based) or None."""

    def __init__(self, current: int, n: int) -> None:
        super().__init__()
        self.current, self.n = current, n

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Go to image (1–{self.n}):")
            yield Input(str(self.current), id="number", type="integer")
            yield Label("", id="problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            number = int(event.value)
        except ValueError:
            self.problem("A whole number, please.")
            return
        if not 1 <= number <= self.n:
            self.problem(f"There are images 1 to {self.n}.")
            return
        self.dismiss(number)


class ResolutionRangeDialog(_Dialog):
    """Returns (d_min, d_max, (d1, d2) | None) or None; empty fields mean no limit."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Mask by resolution[/b] (Å; leave empty for none)")
            for name, hint in (
                ("d_min", "mask d < d_min"),
                ("d_max", "mask d > d_max"),
                ("range", "a band: d1 d2"),
            ):
                with Horizontal(classes="field"):
                    yield Label(name)
                    yield Input("", placeholder=hint, id=name)
            yield Label("", id="problem")

    def on_input_submitted(self) -> None:
        try:
            d_min = _opt(self.query_one("#d_min", Input).value)
            d_max = _opt(self.query_one("#d_max", Input).value)
            band_text = self.query_one("#range", Input).value.replace(",", " ").split()
            band = tuple(float(v) for v in band_text) if band_text else None
        except ValueError as exc:
            self.problem(f"Not a number: {exc}")
            return
        if band is not None and len(band) != 2:
            self.problem("A band is two d values, e.g. 3.5 3.7.")
            return
        for v in (d_min, d_max, *(band or ())):
            if v is not None and v <= 0:
                self.problem("Resolutions are greater than 0 Å.")
                return
        self.dismiss((d_min, d_max, band))


class Confirm(_Dialog):
    """Returns True or None."""

    BINDINGS = [Binding("escape", "dismiss_none", "No"), Binding("y", "yes", "Yes")]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question, self.yes = question, yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            with Horizontal():
                yield Button(self.yes, id="yes", variant="warning")
                yield Button("No (Esc)", id="no")

    def action_yes(self) -> None:
        self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(True if event.button.id == "yes" else None)


def _opt(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None
