"""The PHIL editor: find a stage's DIALS parameters, set checked values, and re-run the stage."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from thas_tui.core.commands import BadParameter, validate_phil
from thas_tui.core.errors import ThasError
from thas_tui.core.phil_params import PhilParam, find_param, validate

# Listing every match of a one-letter filter in an OptionList costs more than it helps.
MAX_SHOWN = 300

HINT = (
    "Type to filter, ↓/Enter picks a parameter, Enter sets its value; "
    "Delete removes a set one; Ctrl+R re-runs, Esc cancels."
)


def _name(token: str) -> str:
    return token.split("=", 1)[0]


def _haystack(p: PhilParam) -> str:
    """What a filter searches: the name, the help and a choice's options."""
    return " ".join([p.path, p.help or "", *(p.choices or [])]).lower()


def _same_param(token_name: str, path: str) -> bool:
    """Whether a token (possibly a shortened PHIL name) sets the parameter at ``path``."""
    return token_name == path or path.endswith("." + token_name)


class PhilEditor(ModalScreen[list[str] | None]):
    """Returns the stage's PHIL tokens (``name=value``) to re-run with, or None to cancel."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+r", "confirm", "Re-run", priority=True),
    ]

    def __init__(
        self,
        stage: str,
        program: str,
        tokens: list[str],
        params: list[PhilParam] | None = None,
        loader: Callable[[], list[PhilParam]] | None = None,
    ) -> None:
        super().__init__()
        self.stage = stage
        self.program = program
        self.tokens = list(tokens)
        self.params: list[PhilParam] = list(params or [])
        self.loader = loader
        self.shown: list[PhilParam] = []
        self.selected: PhilParam | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="phil-dialog"):
            yield Label(
                f"[b]Parameters of {self.program}[/b] for a re-run of {self.stage}",
                id="phil-title",
            )
            yield Input(placeholder="filter: part of a name or of its help", id="phil-filter")
            yield OptionList(id="phil-params")
            yield Static("", id="phil-help")
            yield Input(placeholder="pick a parameter first", id="phil-value", disabled=True)
            yield Label("", id="phil-error")
            yield Label("Set for this stage (Delete removes):", id="phil-set-title")
            yield OptionList(id="phil-set")
            with Horizontal(id="phil-buttons"):
                yield Button(f"Re-run {self.stage}", variant="primary", id="phil-rerun")
                yield Button("Cancel", id="phil-cancel")
            yield Label(HINT, id="phil-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#phil-error", Label).display = False
        self._show_set()
        if self.params or self.loader is None:
            self._filter("")
        else:
            self.query_one("#phil-help", Static).update(
                f"Asking {self.program} for its parameters…"
            )
            self._load()
        self.query_one("#phil-filter", Input).focus()

    @work(thread=True, exclusive=True, group="phil-load")
    def _load(self) -> None:
        assert self.loader is not None
        try:
            params = self.loader()
        except ThasError as exc:
            self.app.call_from_thread(self._load_failed, str(exc))
            return
        self.app.call_from_thread(self._loaded, params)

    def _loaded(self, params: list[PhilParam]) -> None:
        self.params = params
        self.query_one("#phil-help", Static).update("")
        self._filter(self.query_one("#phil-filter", Input).value)

    def _load_failed(self, message: str) -> None:
        # The parameters cannot be listed: known names can still be typed as name=value.
        self.query_one("#phil-help", Static).update(
            f"Could not list the parameters: {message}\n"
            "Type name=value in the filter and press Enter to set it anyway."
        )

    # -- the parameter list ------------------------------------------------------------------
    def _filter(self, text: str) -> None:
        words = text.lower().split()
        matches = [p for p in self.params if all(w in _haystack(p) for w in words)]
        # Names that match come before matches found only in the help.
        matches.sort(key=lambda p: not all(w in p.path.lower() for w in words))
        self.shown = matches[:MAX_SHOWN]
        options = self.query_one("#phil-params", OptionList)
        options.clear_options()
        options.add_options([Option(self._prompt(p)) for p in self.shown])
        options.border_title = f"{len(matches)} of {len(self.params)}" + (
            f" (first {MAX_SHOWN})" if len(matches) > MAX_SHOWN else ""
        )
        if self.shown:
            options.highlighted = 0

    def _prompt(self, p: PhilParam) -> Text:
        text = Text(p.path, style="bold")
        text.append(f" = {p.default}")
        text.append(f"  {p.type_text}", style="dim")
        return text

    @on(Input.Changed, "#phil-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    @on(Input.Submitted, "#phil-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if "=" in event.value:
            # A name=value typed straight in: set it as is when it is well formed.
            self._set_raw(event.value)
            return
        if self.shown:
            options = self.query_one("#phil-params", OptionList)
            self._pick(self.shown[options.highlighted or 0])

    @on(OptionList.OptionHighlighted, "#phil-params")
    def _param_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.shown):
            self._describe(self.shown[event.option_index])

    @on(OptionList.OptionSelected, "#phil-params")
    def _param_selected(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.shown):
            self._pick(self.shown[event.option_index])

    def _describe(self, p: PhilParam) -> None:
        text = Text(p.path, style="bold")
        text.append(f"  ({p.type_text or 'untyped'}, default {p.default})")
        if p.choices:
            text.append("\nchoices: " + ", ".join(p.choices))
        if p.help:
            text.append("\n" + p.help)
        self.query_one("#phil-help", Static).update(text)

    def _pick(self, p: PhilParam) -> None:
        """Edit ``p``: its current value (or default) in the value input, focused."""
        self.selected = p
        self._describe(p)
        value_input = self.query_one("#phil-value", Input)
        value_input.disabled = False
        value_input.placeholder = f"value for {p.path}"
        current = next((t for t in self.tokens if _same_param(_name(t), p.path)), None)
        value_input.value = current.split("=", 1)[1] if current else p.default
        self._error("")
        value_input.focus()

    # -- values ------------------------------------------------------------------------------
    @on(Input.Submitted, "#phil-value")
    def _value_submitted(self, event: Input.Submitted) -> None:
        if self.selected is None:
            return
        try:
            value = validate(self.selected, event.value)
        except BadParameter as exc:
            self._error(str(exc))
            return
        self._set_token(self.selected.path, f"{self.selected.path}={value}")
        self._error("")
        self.query_one("#phil-filter", Input).focus()

    def _set_raw(self, raw: str) -> None:
        try:
            token = validate_phil(raw)
            name, value = token.split("=", 1)
            known = find_param(self.params, name)
            if known is not None:
                token = f"{known.path}={validate(known, value)}"
                name = known.path
            elif self.params:
                # DIALS would stop on a name it does not know or cannot resolve: say so now.
                candidates = [p.path for p in self.params if _same_param(name, p.path)]
                if not candidates:
                    raise BadParameter(f"{self.program} has no parameter {name!r}.")
                raise BadParameter(
                    f"{name!r} is ambiguous: {', '.join(candidates[:4])}"
                    + (" …" if len(candidates) > 4 else "")
                )
        except BadParameter as exc:
            self._error(str(exc))
            return
        self._set_token(name, token)
        self._error("")
        self.query_one("#phil-filter", Input).value = ""

    def _set_token(self, path: str, token: str) -> None:
        # One value per parameter: a new one replaces the old, even if it was shortened.
        self.tokens = [t for t in self.tokens if not _same_param(_name(t), path)]
        self.tokens.append(token)
        self._show_set()

    def _show_set(self) -> None:
        set_list = self.query_one("#phil-set", OptionList)
        set_list.clear_options()
        if self.tokens:
            set_list.add_options([Option(t) for t in self.tokens])
        else:
            set_list.add_option(Option("(none: DIALS's defaults)", disabled=True))

    def _error(self, message: str) -> None:
        label = self.query_one("#phil-error", Label)
        label.update(Text(message))
        label.display = bool(message)

    @property
    def error(self) -> str:
        """The error shown under the value (empty when none)."""
        label = self.query_one("#phil-error", Label)
        return str(label.render()) if label.display else ""

    # -- the list of set parameters ----------------------------------------------------------
    def on_key(self, event) -> None:
        if event.key == "down" and self.query_one("#phil-filter", Input).has_focus:
            # From the filter straight into its matches, as in a search box.
            self.query_one("#phil-params", OptionList).focus()
            event.stop()
            return
        set_list = self.query_one("#phil-set", OptionList)
        if event.key in ("delete", "backspace") and set_list.has_focus and self.tokens:
            index = set_list.highlighted
            if index is not None and index < len(self.tokens):
                del self.tokens[index]
                self._show_set()
                if self.tokens:
                    set_list.highlighted = min(index, len(self.tokens) - 1)
            event.stop()

    @on(OptionList.OptionSelected, "#phil-set")
    def _set_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self.tokens):
            name = _name(self.tokens[event.option_index])
            known = find_param(self.params, name)
            if known is not None:
                self._pick(known)

    # -- leaving ------------------------------------------------------------------------------
    @on(Button.Pressed, "#phil-rerun")
    def action_confirm(self) -> None:
        self.dismiss(list(self.tokens))

    @on(Button.Pressed, "#phil-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
