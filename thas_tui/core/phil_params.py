"""A DIALS program's PHIL parameters (from `dials.<program> -c -e1 -a2`) and checks of new values."""

from __future__ import annotations

import math
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from thas_tui.core.commands import BadParameter, validate_phil
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.errors import ThasError

# -e1: the parameters a user may reasonably change (not the developer-only ones);
# -a2: with their .help and .type attributes (-a1 prints values only).
LIST_ARGS = ("-c", "-e1", "-a2")

_TYPE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DEF = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$")
_ATTR = re.compile(r"^\.([A-Za-z_]+)\s*=\s*(.*)$")
_SPACE_GROUP = re.compile(r"^[A-Za-z][A-Za-z0-9 /:()\-]*$")

NUMBER_TYPES = ("int", "float")
LIST_TYPES = ("ints", "floats")
PATH_TYPES = ("str", "path", "experiment_list", "reflection_table")


@dataclass
class PhilParam:
    """One PHIL definition: full dotted path, default as printed, type and help."""

    path: str
    default: str
    type: str | None
    help: str | None
    choices: list[str] | None
    # The type's arguments as printed, e.g. {"value_min": "0", "allow_none": "True"}.
    type_args: dict[str, str] = field(default_factory=dict)
    multiple: bool = False
    expert_level: int = 0

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def type_text(self) -> str:
        """The type as DIALS prints it: ``float(value_min=0)``."""
        if not self.type:
            return ""
        if not self.type_args:
            return self.type
        args = ", ".join(f"{k}={v}" for k, v in self.type_args.items())
        return f"{self.type}({args})"

    @property
    def multi_choice(self) -> bool:
        return self.type == "choice" and self.type_args.get("multi") == "True"


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _join_strings(text: str) -> str:
    """PHIL prints a long .help as several quoted strings; read back, they join with spaces."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
    if not parts:
        return _unquote(text)
    return re.sub(r"\s+", " ", " ".join(parts)).strip()


def _split_args(text: str) -> dict[str, str]:
    args: dict[str, str] = {}
    for part in text.split(","):
        if "=" in part:
            key, value = part.split("=", 1)
            args[key.strip()] = value.strip()
    return args


def parse_phil_listing(text: str) -> list[PhilParam]:
    """Every definition in ``dials.<program> -c -e1 -a2`` output, with its full dotted path.

    Never raises: lines it does not understand are skipped.
    """
    lines = text.splitlines()
    if lines and lines[0].startswith("Showing configuration parameters"):
        # The header ("attributes_level = 2" ...) is not part of the parameters.
        while lines and lines[0].strip():
            lines.pop(0)
    params: list[PhilParam] = []
    scopes: list[tuple[str, int]] = []  # (name, expert_level)
    pending_scope: str | None = None
    pending_level = 0
    current: PhilParam | None = None
    # The attribute being read, so that a .help continued on the next lines is joined.
    attr_name: str | None = None
    attr_text = ""

    def finish_attr() -> None:
        nonlocal attr_name, attr_text, pending_level
        if attr_name is None:
            return
        value = attr_text.strip()
        if current is not None and pending_scope is None:
            if attr_name == "help":
                current.help = _join_strings(value) or None
            elif attr_name == "type":
                m = _TYPE.match(value)
                if m:
                    current.type = m.group(1)
                    current.type_args = _split_args(m.group(2) or "")
                else:
                    current.type = value or None
            elif attr_name == "multiple":
                current.multiple = value == "True"
            elif attr_name == "expert_level" and value.isdigit():
                current.expert_level = max(current.expert_level, int(value))
        elif pending_scope is not None and attr_name == "expert_level" and value.isdigit():
            pending_level = int(value)
        attr_name, attr_text = None, ""

    def finish_current() -> None:
        nonlocal current
        finish_attr()
        if current is not None:
            _settle_choice(current)
            params.append(current)
        current = None

    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.startswith('"') and attr_name is not None:
            attr_text += " " + line
            continue
        m = _ATTR.match(line)
        if m:
            finish_attr()
            attr_name, attr_text = m.group(1), m.group(2)
            continue
        if line == "{":
            finish_current()
            if pending_scope is not None:
                scopes.append((pending_scope, pending_level))
            pending_scope, pending_level = None, 0
            continue
        if line == "}":
            finish_current()
            if scopes:
                scopes.pop()
            continue
        if line.endswith("{") and _NAME.match(line[:-1].strip()):
            finish_current()
            scopes.append((line[:-1].strip(), scopes[-1][1] if scopes else 0))
            continue
        m = _DEF.match(line)
        if m:
            finish_current()
            pending_scope = None
            path = ".".join([s for s, _ in scopes] + [m.group(1)])
            level = max((lvl for _, lvl in scopes), default=0)
            current = PhilParam(path, m.group(2).strip(), None, None, None, expert_level=level)
            continue
        if _NAME.match(line):
            # A scope with attributes: its name, then .help/.expert_level lines, then '{'.
            finish_current()
            pending_scope, pending_level = line, 0
            continue
    finish_current()
    return params


def _settle_choice(param: PhilParam) -> None:
    """A choice's default is printed as its options with '*' on the chosen ones."""
    if param.type != "choice":
        param.default = _unquote(param.default)
        return
    words = param.default.split()
    param.choices = [w.lstrip("*") for w in words]
    chosen = [w[1:] for w in words if w.startswith("*")]
    if param.multi_choice:
        param.default = "+".join(chosen) if chosen else "None"
    else:
        param.default = chosen[0] if chosen else "None"


# -- listing a program's parameters ------------------------------------------------------------
_MEMORY: dict[tuple[str, str, str], list[PhilParam]] = {}


def cache_file(cache_dir: Path, program: str, version: str) -> Path:
    return cache_dir / f"{program}-{version}.phil.txt"


def list_params(
    program: str,
    dials: DialsEnv,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
) -> list[PhilParam]:
    """The parameters of ``program`` (``dials.index``), cached per program and DIALS version.

    The listing is kept in memory and, when ``cache_dir`` is given and the version is known,
    as the raw text in ``cache_dir`` (a listing takes a second or two to produce).
    """
    key = (program, dials.version, str(dials.bin_dir))
    if key in _MEMORY:
        return _MEMORY[key]
    cached = None
    if cache_dir is not None and dials.version not in ("unknown", "not found"):
        cached = cache_file(Path(cache_dir), program, dials.version)
        if cached.is_file():
            params = parse_phil_listing(cached.read_text(encoding="utf-8", errors="replace"))
            if params:
                _MEMORY[key] = params
                return params
    argv = [dials.program(program), *LIST_ARGS]
    try:
        res = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=dials.subprocess_env(),
        )
    except subprocess.TimeoutExpired as exc:
        raise ThasError(f"{program} did not list its parameters within {timeout:.0f} s.") from exc
    except OSError as exc:
        raise ThasError(f"Could not run {argv[0]}: {exc.strerror or exc}") from exc
    params = parse_phil_listing(res.stdout)
    if res.returncode != 0 or not params:
        tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
        raise ThasError(
            f"{program} {' '.join(LIST_ARGS)} exited {res.returncode} without a parameter "
            f"list: {' / '.join(tail) or 'no output'}"
        )
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(res.stdout, encoding="utf-8")
        except OSError:
            pass  # the cache only saves a second; a read-only directory must not stop editing
    _MEMORY[key] = params
    return params


def find_param(params: list[PhilParam], name: str) -> PhilParam | None:
    """The parameter a (possibly shortened) PHIL name means, as DIALS matches it by suffix."""
    exact = [p for p in params if p.path == name]
    if exact:
        return exact[0]
    tail = [p for p in params if p.path.endswith("." + name)]
    return tail[0] if len(tail) == 1 else None


# -- checking a value --------------------------------------------------------------------------
def _number(param: PhilParam, word: str, kind: str) -> float | int:
    try:
        value: float | int = int(word) if kind == "int" else float(word)
    except ValueError:
        what = "an integer" if kind == "int" else "a number"
        raise BadParameter(f"{param.path} needs {what}, not {word!r}.") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise BadParameter(f"{param.path} needs a finite number, not {word!r}.")
    low, high = param.type_args.get("value_min"), param.type_args.get("value_max")
    try:
        if low is not None and value < float(low):
            raise BadParameter(f"{param.path} must be at least {low} (got {word}).")
        if high is not None and value > float(high):
            raise BadParameter(f"{param.path} must be at most {high} (got {word}).")
    except ValueError:
        pass  # a bound DIALS printed in a form we cannot read: DIALS will check it
    return value


def _words(value: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", value) if w]


def validate(param: PhilParam, value: str) -> str:
    """Return ``value`` normalised for ``param``, or raise BadParameter saying what is wrong."""
    token = validate_phil(f"{param.path}={value}")
    value = token.split("=", 1)[1]
    if not value:
        raise BadParameter(f"{param.path} needs a value.")
    kind = param.type
    special = value.lower()
    if special in ("none", "auto") and kind not in PATH_TYPES:
        return special.capitalize()
    if kind in NUMBER_TYPES:
        # Checked, but passed on as typed: DIALS reads "20" and "20.0" alike.
        _number(param, value, kind)
        return value
    if kind == "bool":
        if special in ("true", "yes", "on", "1"):
            return "True"
        if special in ("false", "no", "off", "0"):
            return "False"
        raise BadParameter(f"{param.path} is True or False, not {value!r}.")
    if kind == "choice":
        options = param.choices or []
        picked = [w.lstrip("*") for w in re.split(r"[\s,+]+", value) if w]
        if not param.multi_choice and len(picked) != 1:
            raise BadParameter(f"{param.path} takes one of: {', '.join(options)}.")
        bad = [w for w in picked if w not in options]
        if bad:
            raise BadParameter(f"{bad[0]!r} is not a choice of {param.path}: {', '.join(options)}.")
        return "+".join(picked)
    if kind in LIST_TYPES:
        words = _words(value)
        for w in words:
            _number(param, w, kind[:-1])
        size = param.type_args.get("size")
        if size and size.isdigit() and len(words) != int(size):
            raise BadParameter(f"{param.path} needs {size} numbers, not {len(words)}.")
        return ",".join(words)
    if kind == "unit_cell":
        words = _words(value)
        if len(words) not in (3, 6):
            raise BadParameter(
                f"{param.path} needs a, b, c (Å) and optionally α, β, γ (°): "
                f"3 or 6 numbers, not {len(words)}."
            )
        if any(_number(param, w, "float") <= 0 for w in words):
            raise BadParameter(f"The cell lengths and angles of {param.path} must be positive.")
        return ",".join(words)
    if kind == "space_group":
        if not _SPACE_GROUP.match(value):
            raise BadParameter(f"{value!r} is not a space group symbol (e.g. P212121, C2).")
        return value
    if kind in PATH_TYPES or kind == "strings":
        if value.startswith("-"):
            raise BadParameter(f"The value of {param.path} starts with '-'.")
        return value
    return value


def token_for(param: PhilParam, value: str) -> str:
    """The ``name=value`` token for ``param``, validated."""
    return f"{param.path}={validate(param, value)}"
