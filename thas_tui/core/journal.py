"""The processing directory's journal: each stage attempt's command, pid, times and exit code."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

THAS_DIR = "thas-tui"
JOURNAL = "journal.jsonl"


def thas_dir(workdir: str | os.PathLike[str]) -> Path:
    """Where thas-tui keeps its own files inside a processing directory."""
    return Path(workdir) / THAS_DIR


@dataclass
class Attempt:
    """One run of one stage, as recorded in the journal."""

    stage: str
    attempt: int
    argv: list[str]
    log: str
    pid: int | None = None
    host: str = ""
    started: float | None = None
    ended: float | None = None
    exit_code: int | None = None
    cancelled: bool = False
    peak_rss_mb: float | None = None
    key_result: str = ""
    # A stage submitted to Slurm: its job id and the last state/reason/node seen.
    job_id: str | None = None
    slurm_state: str | None = None
    slurm_reason: str | None = None
    node: str | None = None
    # Set when the end was recorded afterwards by whoever continued the run: how it was learnt.
    unobserved: str = ""


class Journal:
    """Append-only JSON-lines record; readers skip lines they cannot parse."""

    def __init__(self, workdir: str | os.PathLike[str]) -> None:
        self.path = thas_dir(workdir) / JOURNAL

    def _append(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def started(self, stage: str, attempt: int, argv: list[str], log: str, pid: int) -> None:
        self._append(
            {
                "event": "start",
                "stage": stage,
                "attempt": attempt,
                "argv": argv,
                "log": log,
                "pid": pid,
                "host": socket.gethostname(),
                "time": time.time(),
            }
        )

    def step(self, stage: str, attempt: int, argv: list[str], pid: int) -> None:
        """The next command of a stage that runs several (Mask): its pid is the one to follow."""
        self._append(
            {
                "event": "step",
                "stage": stage,
                "attempt": attempt,
                "argv": argv,
                "pid": pid,
                "time": time.time(),
            }
        )

    def ended(
        self,
        stage: str,
        attempt: int,
        exit_code: int,
        cancelled: bool = False,
        peak_rss_mb: float | None = None,
        key_result: str = "",
        **slurm: object,
    ) -> None:
        """A stage attempt's end; ``slurm``: the job's final state and reason, for a Slurm job."""
        self._append(
            {
                "event": "end",
                "stage": stage,
                "attempt": attempt,
                "exit_code": exit_code,
                "cancelled": cancelled,
                "peak_rss_mb": peak_rss_mb,
                "key_result": key_result,
                "time": time.time(),
                **slurm,
            }
        )

    def submitted(
        self, stage: str, attempt: int, argv: list[str], log: str, job_id: str, script: str
    ) -> None:
        """A stage sent to Slurm as batch job ``job_id`` (its start, as far as the journal goes)."""
        self._append(
            {
                "event": "start",
                "stage": stage,
                "attempt": attempt,
                "argv": argv,
                "log": log,
                "pid": None,
                "job_id": job_id,
                "script": script,
                "host": socket.gethostname(),
                "time": time.time(),
            }
        )

    def slurm_state(
        self,
        stage: str,
        attempt: int,
        job_id: str,
        state: str,
        reason: str | None,
        node: str | None,
    ) -> None:
        """A state transition of a stage's Slurm job, with Slurm's reason and the node."""
        self._append(
            {
                "event": "slurm",
                "stage": stage,
                "attempt": attempt,
                "job_id": job_id,
                "state": state,
                "reason": reason,
                "node": node,
                "time": time.time(),
            }
        )

    def cancel_requested(self, job_ids: list[str], by: str) -> None:
        self._append({"event": "scancel", "job_ids": job_ids, "by": by, "time": time.time()})

    def cancelled_by(self, job_id: str) -> str | None:
        """Who asked thas-tui to cancel ``job_id``, if someone did."""
        for rec in reversed(self.records()):
            if rec.get("event") == "scancel" and job_id in (rec.get("job_ids") or []):
                return str(rec.get("by") or "")
        return None

    def ended_unobserved(
        self, stage: str, attempt: int, when: float, exit_code: int | None, note: str
    ) -> None:
        """The end of an attempt that finished while no one watched, learnt afterwards."""
        self._append(
            {
                "event": "end",
                "stage": stage,
                "attempt": attempt,
                "exit_code": exit_code,
                "cancelled": False,
                "unobserved": note,
                "time": when,
                "recorded": time.time(),
            }
        )

    def choice(self, solution: int, cb_op: str) -> None:
        self._append(
            {"event": "bravais_choice", "solution": solution, "cb_op": cb_op, "time": time.time()}
        )

    def run_begun(self, settings: dict) -> None:
        """A pipeline run starts: what a keeper needs to finish it if the dashboard dies."""
        self._append({"event": "run_begin", "pid": os.getpid(), "time": time.time(), **settings})

    def run_ended(self, outcome: str) -> None:
        """The run is over (finished, failed, stopped by the user): nothing left to continue."""
        try:
            self._append({"event": "run_end", "outcome": outcome, "time": time.time()})
        except OSError:
            pass  # disk full: the stage failure already says so

    def open_run(self) -> dict | None:
        """The settings of a run that began and never ended (its controller died), else None."""
        for rec in reversed(self.records()):
            if rec.get("event") == "run_end":
                return None
            if rec.get("event") == "run_begin":
                return rec
        return None

    def last_settings(self) -> dict | None:
        """The settings (extra PHIL per stage, nproc) of the latest run, ended or not."""
        for rec in reversed(self.records()):
            if rec.get("event") == "run_begin":
                return rec
        return None

    def unfinished_attempt(self) -> Attempt | None:
        """The latest attempt with a start and no end: a stage that may still be running."""
        for a in reversed(self.attempts()):
            if a.ended is None:
                return a
        return None

    def records(self) -> list[dict]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out

    def attempts(self) -> list[Attempt]:
        """Every attempt, in order, with its end filled in when it has ended."""
        by_key: dict[tuple[str, int], Attempt] = {}
        for rec in self.records():
            key = (str(rec.get("stage")), int(rec.get("attempt") or 0))
            if rec.get("event") == "start":
                by_key[key] = Attempt(
                    stage=key[0],
                    attempt=key[1],
                    argv=list(rec.get("argv") or []),
                    log=str(rec.get("log") or ""),
                    pid=rec.get("pid"),
                    host=str(rec.get("host") or ""),
                    started=rec.get("time"),
                    job_id=rec.get("job_id"),
                )
            elif rec.get("event") == "slurm" and key in by_key:
                a = by_key[key]
                a.slurm_state = rec.get("state")
                a.slurm_reason = rec.get("reason")
                a.node = rec.get("node") or a.node
                if a.slurm_state == "RUNNING":
                    a.started = rec.get("time")
            elif rec.get("event") == "step" and key in by_key:
                by_key[key].pid = rec.get("pid")
            elif rec.get("event") == "end" and key in by_key:
                a = by_key[key]
                a.ended = rec.get("time")
                a.exit_code = rec.get("exit_code")
                a.cancelled = bool(rec.get("cancelled"))
                a.peak_rss_mb = rec.get("peak_rss_mb")
                a.key_result = str(rec.get("key_result") or "")
                a.slurm_state = rec.get("slurm_state") or a.slurm_state
                a.slurm_reason = rec.get("slurm_reason") or a.slurm_reason
                a.unobserved = str(rec.get("unobserved") or "")
        return list(by_key.values())

    def open_slurm_jobs(self) -> list[Attempt]:
        """The latest attempt of each stage when it is a Slurm job with no end recorded yet."""
        latest: dict[str, Attempt] = {}
        for a in self.attempts():
            latest[a.stage] = a
        return [a for a in latest.values() if a.job_id and a.ended is None]

    def next_attempt(self, stage: str) -> int:
        return 1 + max((a.attempt for a in self.attempts() if a.stage == stage), default=0)

    def last_choice(self) -> tuple[int, str] | None:
        for rec in reversed(self.records()):
            if rec.get("event") == "bravais_choice":
                try:
                    return int(rec["solution"]), str(rec["cb_op"])
                except (KeyError, TypeError, ValueError):
                    return None
        return None
