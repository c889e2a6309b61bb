"""One sentence a coach can read between points, from an :class:`~strategist.advice.advisor.Advice`."""

from __future__ import annotations


def pct(p: float) -> str:
    return f"{100 * p:.0f} %"


def _mix_text(rec) -> str:
    shots = rec.shots(0.05)
    if len(shots) == 1:
        return shots[0][0]
    return " / ".join(f"{a} {pct(p)}" for a, p in shots[:3])


def _pronoun(advice) -> str:
    return advice.opponent


def sentence(advice) -> str:
    """E.g. "Rally after defence: Dev MALHOTRA answers with a lob 38 % of the time (defence shots 62 %,
    41 of his strokes); smash wins 58 % against that and never less than 49 %."""
    parts = []
    if advice.lead is not None:
        lead = advice.lead
        state = lead["state"]
        what = (f"{state[len('rally after '):]} shot" if state.startswith("rally after ") else
                state[len("return of "):] if state.startswith("return of ") else f"'{state}'")
        what = ("an " if what[:1] in "aeiou" else "a ") + what
        parts.append(f"{advice.opponent} hits next ({lead['n']} strokes seen): {what} {pct(lead['mass'])} of the "
                     f"time, most often {lead['shot']} ({pct(lead['prediction'][lead['shot']])})")
    if advice.safe is None:
        parts.append(f"no advice for '{advice.state}': too little data on {advice.player} there")
        return "; ".join(parts) + "."
    pred = advice.lead["reply_prediction"] if advice.lead is not None else advice.prediction
    n = advice.lead["reply_n"] if advice.lead is not None else advice.prediction_n
    values = pred.to_numpy()
    top = pred.index[int(values.argmax())]
    group = max(advice.reply_raw, key=advice.reply_raw.get)
    basis = f"{n} of his strokes" if advice.prediction_source == "player" else \
        "no strokes of his: all players'"
    state = advice.state[0].upper() + advice.state[1:]
    head = "" if advice.lead is None else "then in "
    reply = (f"{head}{state if not head else advice.state}: {advice.opponent} answers with {group} shots "
             f"{pct(advice.reply_raw[group])} of the time ({top} alone {pct(values.max())}; {basis})")
    rec = advice.safe
    verb = "wins" if len(rec.shots(0.05)) == 1 else "win"
    advice_text = (f"{_mix_text(rec)} {verb} {pct(rec.expected)} against that and never less than "
                   f"{pct(rec.guarantee)}")
    parts.append(reply)
    parts.append(advice_text)
    return "; ".join(parts) + "."
