"""Numerics shared by the preconditioned optimizers.

``robust_eigh`` diagonalises a symmetric PSD factor: eigh in the working precision, retried in float64
when that fails or returns non-finite values. ``inverse_root`` builds (M + eps I)^(-1/p) from it.
Callers keep their last good result when both attempts fail and count the failure
(:class:`PreconditionerHealth`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


class EighFailure(RuntimeError):
    """eigh failed in both the working precision and float64."""


def _eigh(mat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # Indirection so tests can force a failure.
    return torch.linalg.eigh(mat)


def robust_eigh(mat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (ascending) and eigenvectors of the symmetric matrix ``mat``, in ``mat``'s dtype.

    Symmetrises first, checks for NaN/Inf, tries eigh in ``mat``'s dtype, then in float64.
    Raises :class:`EighFailure` when the input is not finite or both attempts fail.
    """
    if not torch.isfinite(mat).all():
        raise EighFailure("factor contains NaN or Inf")
    sym = 0.5 * (mat + mat.transpose(-1, -2))
    try:
        vals, vecs = _eigh(sym)
        if torch.isfinite(vals).all() and torch.isfinite(vecs).all():
            return vals, vecs
    except RuntimeError:
        pass
    try:
        vals, vecs = _eigh(sym.to(torch.float64))
    except RuntimeError as exc:  # pragma: no cover - exercised through the patched _eigh in tests
        raise EighFailure(str(exc)) from exc
    if not (torch.isfinite(vals).all() and torch.isfinite(vecs).all()):
        raise EighFailure("eigh returned non-finite values in float64")
    return vals.to(mat.dtype), vecs.to(mat.dtype)


def inverse_root(mat: torch.Tensor, root: float, eps: float = 0.0) -> torch.Tensor:
    """(M + eps I)^(-1/root) of a symmetric PSD ``mat`` via :func:`robust_eigh`.

    Eigenvalues are clamped at a tiny positive floor after adding ``eps`` so rank-deficient factors
    stay finite.
    """
    vals, vecs = robust_eigh(mat)
    floor = torch.finfo(vals.dtype).tiny ** 0.5
    vals = (vals.clamp_min(0) + eps).clamp_min(floor)
    return (vecs * vals.pow(-1.0 / root).unsqueeze(-2)) @ vecs.transpose(-1, -2)


@dataclass
class PreconditionerHealth:
    """Counts of refresh outcomes, kept per optimizer and saved in ``state_dict``.

    ``skipped_updates`` counts parameter updates skipped because a gradient or a factor was not finite;
    ``fallback_updates`` counts updates a preconditioned layer took from the base optimizer instead
    (K-FAC: a layer without factors or eigenbasis yet).
    """

    refreshes: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    skipped_updates: int = 0
    fallback_updates: int = 0

    def success(self) -> None:
        self.refreshes += 1
        self.consecutive_failures = 0

    def failure(self) -> None:
        self.failures += 1
        self.consecutive_failures += 1

    def skipped(self) -> None:
        self.skipped_updates += 1

    def fell_back(self) -> None:
        self.fallback_updates += 1

    def as_dict(self) -> dict[str, int]:
        return {"refreshes": self.refreshes, "failures": self.failures,
                "consecutive_failures": self.consecutive_failures,
                "skipped_updates": self.skipped_updates, "fallback_updates": self.fallback_updates}

    @classmethod
    def from_dict(cls, counts: dict[str, int] | None) -> "PreconditionerHealth":
        """Inverse of :meth:`as_dict`; missing counts start at zero, unknown keys are ignored."""
        counts = counts or {}
        return cls(**{name: int(counts[name]) for name in cls.__dataclass_fields__ if name in counts})


def all_finite(*tensors: torch.Tensor) -> bool:
    """True when every entry of every tensor is finite (one device synchronisation for all of them)."""
    flags = [torch.isfinite(t).all() for t in tensors]
    return bool(torch.stack(flags).all()) if flags else True
