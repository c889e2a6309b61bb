"""Rallies written by hand as canonical rows, for payoff tests whose every count is counted by hand."""


def rally_rows(match, number, server, receiver, strokes, winner) -> list[dict]:
    """``strokes``: (shot, landing area, receiver's position) from the serve on, the players alternating."""
    rows = []
    for k, (shot, landing, position) in enumerate(strokes, start=1):
        hitter, opponent = (server, receiver) if k % 2 else (receiver, server)
        rows.append({"sport": "badminton", "source": "constructed", "match_id": match, "set": 1, "rally": number,
                     "rally_id": f"{match}|1|{number}", "stroke": k, "hitter": hitter, "opponent": opponent,
                     "shot": shot, "landing_area": landing, "opponent_area": position, "server": server,
                     "winner": winner, "hitter_won": winner == hitter})
    return rows
