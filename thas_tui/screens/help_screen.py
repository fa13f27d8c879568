"""The help screen: every key binding of the dashboard, and what thas-tui is doing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# thas-tui keys

| key | does |
|---|---|
| `j` `k` | move in the stage tree (its log is shown), wherever the focus is (in the image view `k` is its colours) |
| `↑` `↓` | move in the focused part (its border is highlighted): the tree, a table, the log |
| `S` | back to the stage tree (focus), from anywhere |
| `Enter` | open the selected stage's panel (spots, RMSD, cell, …) |
| `Tab` / `Shift+Tab` | move between the stage tree, the tabs and the panels |
| `l` `s` `r` `p` `i` `y` `m` | log, spots, RMSD, cell plots, integration, symmetry, merging |
| `p` again | several sweeps: the next experiment's scan-varying cell |
| `v` | the diffraction images (keys below) |
| `z` | the shown pane takes the whole terminal, and back |
| `L` | the reciprocal lattice (from strong.refl on): its keys below |
| `f` | follow the running stage again |
| `e` | edit the stage tree's selected stage's DIALS parameters and re-run it (later stages become stale) |
| `F` | re-run a stage that stopped on a known DIALS limit with the parameters its message names |
| `a` | the stage tree's selected stage's attempts: command, result, log and archived outputs of each |
| `C` | compare this directory with its earlier scale attempts, other runs, xia2 or aimless results |
| `R` | resume: run from the first unfinished stage (when watching a directory) |
| `c` | cancel the running stage (its process group is stopped; its log is kept) |
| `q` / `Ctrl+C` | quit; while a stage runs it asks: stop it, or leave DIALS running |
| `Ctrl+P` | command palette: every command by name |
| `?` | this help; `Esc` closes it |

In the **image view**: `n` `N` next/previous image, `g` go to image N, `Home` `End` first/last,
arrows move the cursor, `+` `-` zoom around it, `Shift+arrows` pan, `0` fit, `b` `B`
brightness, `k` colours, `o` resolution rings, `x` beam centre, `d` spots, `D` predictions,
`t` threshold pixels, `T` their parameters beside the image (`↑` `↓` choose, `+` `-` step,
`Enter` type a value, `F` use in find_spots, `Esc` close), `M` mask editor: `1` rectangle, `2` circle,
`3` polygon, `Enter` places a point, `4` resolution limits, `5` ice rings, `[` `]` border,
`u` undo, `Esc` drop the shape, `w` save mask.phil.

In the **Bravais picker**: `↑` `↓` / `j` `k` move, `Enter` confirms the solution, `Esc`
stops the pipeline before reindexing. ★ marks DIALS's recommended solution: the highest
symmetry whose metric fit, rmsd and cc are all acceptable.

In the **Lattice** view: `←` `→` `↑` `↓` turn (with `Shift`: fine), `,` `.` roll, `+` `-`
zoom, `0` reset, `1` along the rotation axis, `2` along the beam, `3` `4` `5` along a*, b*, c*
(after indexing), `[` `]` Max Z (images 1..N; `{` `}` by a tenth), `Space` play the sweep,
`d` / `D` raise / lower the resolution cut, `x` the cell's reciprocal axes, `t` strong.refl ↔
indexed.refl, `u` unindexed spots by resolution, `o` all / indexed / unindexed only.

Each stage is a real DIALS process; its full output is in `thas-tui/logs/<stage>.<attempt>.log`
of the processing directory, and `thas-tui/journal.jsonl` records each attempt's command, pid,
times and exit code. `thas-tui summary DIR` prints the same results without the dashboard.
"""


SESSION_HELP = """\
# thas-tui session keys

| key | does |
|---|---|
| `↑` `↓` / `j` `k` | move between datasets |
| `Enter` | open the dataset's dashboard (its processing directory); `Esc` or `q` there comes back |
| `o` | sort by: newest, name, state, spots per image, CC½ |
| `/` | filter by name or state; `Esc` clears it |
| `Space` | pause or resume the processing queue (runs already started go on) |
| `x` | skip the dataset (never processed; again to undo) |
| `P` | process now: a dataset held for missing images, or again after a failure |
| `q` | quit: runs already started go on; `thas-tui session` again picks them up |

Each image is spot-checked as it lands by DIALS's per-image analysis server
(`dials.find_spots_server`, on loopback): the sparkline is its spot count per image, newest
image first. A sweep is complete when no new image has come for `--idle` seconds; it is then
processed with `thas-tui run --auto-bravais` in `PROC_ROOT/<dataset>/`, newest dataset first,
`--jobs` at a time. `thas-tui session DATA_DIR --summary [--json]` prints the table.
"""


class HelpScreen(ModalScreen[None]):
    """Bindings and a few words on where things are."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, session: bool = False) -> None:
        super().__init__()
        self.text = SESSION_HELP if session else HELP

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Markdown(self.text)
