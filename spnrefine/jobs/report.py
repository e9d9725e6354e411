"""What a batch reports: counts and failures (:class:`BatchReport`), and the live progress (:class:`ProgressLog`)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .types import Outcome

SHOWN_FAILURES = 20  # the terminal shows this many; --report FILE keeps them all


@dataclass
class BatchReport:
    done: int = 0
    skipped: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)
    then_crf: int | None = None  # images dense CRF followed the refiner on; None: --then-crf never
    then_crf_full_weight: int = 0  # ... of them, with DeepLab's full weight ("strong")

    def fail(self, path: Path, message: str) -> None:
        self.failed.append((path, message))

    def lines(self, shown: int = SHOWN_FAILURES) -> list[str]:
        """The summary line and the first ``shown`` failures."""
        failed = len(self.failed)
        why = " (outputs exist; --overwrite to redo)" if self.skipped else ""
        crf = "" if self.then_crf is None else (f"; dense CRF after the refiner on {self.then_crf} "
                                                f"(at DeepLab's full weight on {self.then_crf_full_weight})")
        lines = [f"done {self.done}, skipped {self.skipped}{why}, failed {failed}{crf}"]
        lines += [f"  failed: {message}" for _, message in self.failed[:shown]]
        if failed > shown:
            lines.append(f"  … and {failed - shown} more failures (--report FILE lists every one)")
        return lines

    def as_dict(self) -> dict:
        """For ``--report``: counts (with ``then_crf`` and ``then_crf_full_weight`` unless --then-crf never) and every
        failure as {input, error}."""
        counts = {"done": self.done, "skipped": self.skipped, "failed": len(self.failed)}
        if self.then_crf is not None:
            counts |= {"then_crf": self.then_crf, "then_crf_full_weight": self.then_crf_full_weight}
        return {**counts, "failures": [{"input": str(path), "error": message} for path, message in self.failed]}


class ProgressLog:
    """Progress bar, ``-v`` lines and the report, fed with outcomes as they arrive (any order)."""

    def __init__(self, report: BatchReport, total: int, progress: bool, verbose: bool):
        self.report, self.verbose, self.progress = report, verbose, progress
        self.bar = tqdm(total=total, unit="img", disable=not progress, dynamic_ncols=True)

    def note(self, message: str) -> None:
        """A line above the bar (not with --quiet)."""
        if self.progress:
            tqdm.write(message, file=sys.stderr)

    def record(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.error is None:
                self.report.done += 1
                if outcome.then_crf:
                    self.report.then_crf = (self.report.then_crf or 0) + 1
                    self.report.then_crf_full_weight += outcome.then_crf == "strong"
                if self.verbose:
                    tqdm.write(f"{outcome.source} → {outcome.written}")
            else:
                self.report.fail(outcome.source, outcome.error)
            self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
        self.report.failed.sort(key=lambda failure: str(failure[0]))  # the same order from every engine
