"""What a lenient load left out, and why: rallies skipped per reason, the first examples, and notes.

Counts are rallies (a rally is skipped whole when any of its rows is bad; one with two problems counts
under both reasons, once in the total); a row that cannot be tied to a rally counts on its own. ``row`` is
the file line a row starts on, as an editor shows it (the header is line 1), and prints as "line N".
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rejection:
    """One bad value: where it is, what it was and what was expected."""

    reason: str
    path: str
    row: int | None
    field: str | None
    value: str | None
    expected: str
    rally: str | None = None

    def __str__(self) -> str:
        where = [self.path]
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        got = "" if self.value is None else f"got {self.value!r}, "
        return f"{', '.join(where)}: {got}expected {self.expected}"

    def to_dict(self) -> dict:
        return {"reason": self.reason, "path": self.path, "row": self.row, "field": self.field,
                "value": self.value, "expected": self.expected, "rally": self.rally}


@dataclass
class RejectionReport:
    """Rallies a load skipped, by reason, with the first ``max_examples`` examples of each reason."""

    max_examples: int = 3
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[Rejection]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_rejected: int = 0
    rallies_rejected: int = 0

    def add(self, reason: str, rallies: int, examples: list[Rejection]) -> None:
        """Count ``rallies`` more rallies skipped for ``reason`` and keep the first examples."""
        self.counts[reason] = self.counts.get(reason, 0) + int(rallies)
        kept = self.examples.setdefault(reason, [])
        kept.extend(examples[: max(0, self.max_examples - len(kept))])

    def note(self, text: str) -> None:
        """Record something the load kept or repaired but the user should know."""
        if text not in self.notes:
            self.notes.append(text)

    def merge(self, other: "RejectionReport") -> None:
        """Add another report (e.g. of a second file) into this one."""
        for reason, n in other.counts.items():
            self.add(reason, n, other.examples.get(reason, []))
        for text in other.notes:
            self.note(text)
        self.rows_read += other.rows_read
        self.rows_rejected += other.rows_rejected
        self.rallies_rejected += other.rallies_rejected

    def __len__(self) -> int:
        return self.rallies_rejected

    def __bool__(self) -> bool:
        return True

    @property
    def ok(self) -> bool:
        """True when nothing was skipped."""
        return self.rallies_rejected == 0 and self.rows_rejected == 0

    def to_dict(self) -> dict:
        return {
            "rows_read": self.rows_read, "rows_rejected": self.rows_rejected,
            "rallies_rejected": self.rallies_rejected, "counts": dict(self.counts),
            "examples": {r: [e.to_dict() for e in ex] for r, ex in self.examples.items()},
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "RejectionReport":
        """The report :meth:`to_dict` wrote."""
        return cls(counts={str(k): int(v) for k, v in data["counts"].items()},
                   examples={str(r): [Rejection(**e) for e in ex] for r, ex in data["examples"].items()},
                   notes=[str(n) for n in data["notes"]], rows_read=int(data["rows_read"]),
                   rows_rejected=int(data["rows_rejected"]), rallies_rejected=int(data["rallies_rejected"]))

    def __str__(self) -> str:
        return self.text()

    def text(self, rallies: str = "rallies") -> str:
        """The report as lines of text; ``rallies``: the sport's word for them (tennis: "points")."""
        lines = [f"rejected: {self.rallies_rejected} {rallies} ({self.rows_rejected} of {self.rows_read} rows)"]
        for reason, n in sorted(self.counts.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"  {n:6d}  {reason}")
            for example in self.examples.get(reason, []):
                lines.append(f"          e.g. {example}")
        if self.notes:
            lines.append("notes:")
            lines.extend(f"  - {text}" for text in self.notes)
        return "\n".join(lines)
