"""One sentence a coach can read between points, from an :class:`~strategist.advice.advisor.Advice`."""

from __future__ import annotations

from strategist.data.states import describe_situation


def pct(p: float) -> str:
    return f"{100 * p:.0f} %"


def _mix_text(rec) -> str:
    shots = rec.shots(0.05)
    if len(shots) == 1:
        return shots[0][0]
    return " / ".join(f"{a} {pct(p)}" for a, p in shots[:3])


def _situation(state: str) -> str:
    text = describe_situation(state)
    return text[0].upper() + text[1:]


def sentence(advice) -> str:
    """E.g. "After a net shot taken low at the front: lob 70 % / net shot 30 % — wins 53 % (49–57 %) against
    what CHOU Tien Chen is predicted to play, never less than 48 % at the lower bound; your habit, the data
    do not support a change (rests 64 % on all players: advice against everyone)."""
    parts = []
    if advice.lead is not None:
        lead = advice.lead
        parts.append(f"{advice.opponent} hits next: most often {lead['shot']} ({pct(lead['mass'])}, "
                     f"{lead['n']} strokes of evidence)")
    rec = advice.safe
    if rec is None:
        parts.append(f"no advice here ({describe_situation(advice.state)}): the data hold no strokes of "
                     f"{advice.player} in this situation")
        return "; ".join(parts) + "."
    head = _situation(advice.state) if advice.lead is None else "then " + describe_situation(advice.state)
    verb = "wins" if len(rec.shots(0.05)) == 1 else "win"
    text = (f"{head}: {_mix_text(rec)} {verb} {pct(rec.estimate)} against what {advice.opponent} is predicted to "
            f"play, never less than {pct(rec.guarantee)} at the lower bound")
    if rec.basis.startswith("habit") or (advice.equilibrium is not None and rec.mix == advice.equilibrium.mix and
                                          advice.equilibrium.basis == "habit"):
        text += f"; {advice.player}'s usual mix: the data do not support a change here"
    if advice.scope != "pairing":
        share = advice.evidence.get("pairing", 0.0)
        text += f"; {pct(share)} of it rests on this pairing: advice against everyone"
    parts.append(text)
    return "; ".join(parts) + "."
