"""ReDial's published JSONL (Li et al., 2018) -> the dialogue format.

A ReDial line holds `messages` ({text, senderWorkerId, timeOffset, messageId}), `movieMentions`
({movie id: title}, or [] when empty), `initiatorWorkerId` (the seeker) and `respondentQuestions`
/ `initiatorQuestions` ({movie id: {suggested, seen, liked}} with 0 = no, 1 = yes, 2 = did not say).
Rules (docs/crs.md):
- the seeker's messages are "user" turns, the other worker's are "recommender" turns; consecutive
  messages of one sender are one turn; "@123" becomes the movie's title and item 123 is mentioned;
- a recommender turn that mentions a movie the questionnaire marks `suggested` gets feedback:
  accepted = some such movie is liked (1); sentiment = mean of +1 liked / -1 not liked / 0 unsaid;
  rejected_items = the ones not liked; dwell = seconds until the seeker's next message (0 if none);
  went_on = the seeker wrote again afterwards.
The questionnaire is `respondentQuestions`, or `initiatorQuestions` where the first is missing.
Quirks of the published files are kept visible, counted per dialogue in `meta["quirks"]` and summed
by `quirks()` (the `ctrlrec crs redial` command prints them and writes them beside its output):
- `null_titles`: a movieMentions entry with a null or empty title; the movie is named "movie <id>";
- `dangling_mentions`: an "@id" with no movieMentions entry; the text keeps "@id", it is no item;
- `unlisted_questions`: a questionnaire entry for a movie the dialogue never mentions (ignored).
"""

from __future__ import annotations

import re
from pathlib import Path

from ctrlrec.crs.dialogue import Dialogue, Feedback, Turn, read_lines

MENTION = re.compile(r"@(\d+)")
EXPECTED = ("ReDial JSONL: objects with messages [{text, senderWorkerId, timeOffset}], movieMentions, "
            "initiatorWorkerId and respondentQuestions {id: {suggested, seen, liked}}")


def _questions(row: dict) -> dict[int, dict]:
    q = row.get("respondentQuestions") or row.get("initiatorQuestions") or {}
    if not isinstance(q, dict):
        raise ValueError("respondentQuestions must be an object")
    return {int(k): v for k, v in q.items()}


def convert(row: dict) -> Dialogue:
    """One ReDial conversation as a Dialogue (raises ValueError / KeyError / TypeError on bad shape)."""
    mentions = row.get("movieMentions") or {}
    if not isinstance(mentions, dict):
        raise ValueError("movieMentions must be an object")
    titles = {int(k): (v or "").strip() or f"movie {k}" for k, v in mentions.items()}
    quirks = {"null_titles": sum(1 for v in mentions.values() if not (v or "").strip()),
              "dangling_mentions": 0, "unlisted_questions": 0}
    questions = _questions(row)
    seeker = row["initiatorWorkerId"]
    msgs = row["messages"]
    if not isinstance(msgs, list):
        raise ValueError("messages must be a list")
    # merge consecutive messages of one sender
    merged: list[dict] = []
    for m in msgs:
        role = "user" if m["senderWorkerId"] == seeker else "recommender"
        if merged and merged[-1]["role"] == role:
            merged[-1]["texts"].append(str(m["text"]))
        else:
            merged.append({"role": role, "texts": [str(m["text"])], "t": float(m.get("timeOffset", 0))})
    turns: list[Turn] = []
    for j, m in enumerate(merged):
        raw = "\n".join(m["texts"])
        found = [int(x) for x in MENTION.findall(raw)]
        ids = list(dict.fromkeys(i for i in found if i in titles))
        quirks["dangling_mentions"] += sum(1 for i in found if i not in titles)
        text = MENTION.sub(lambda g: titles.get(int(g.group(1)), g.group(0)), raw)
        turn = Turn(m["role"], text, ids)
        suggested = [i for i in ids if int(questions.get(i, {}).get("suggested", 0)) == 1]
        if m["role"] == "recommender" and suggested:
            liked = [int(questions[i].get("liked", 2)) for i in suggested]
            later = [x for x in merged[j + 1:] if x["role"] == "user"]
            turn.feedback = Feedback(
                accepted=any(v == 1 for v in liked),
                sentiment=sum({1: 1.0, 0: -1.0}.get(v, 0.0) for v in liked) / len(liked),
                dwell=max(0.0, later[0]["t"] - m["t"]) if later else 0.0,
                went_on=bool(later),
                accepted_items=[i for i, v in zip(suggested, liked, strict=True) if v == 1],
                rejected_items=[i for i, v in zip(suggested, liked, strict=True) if v == 0])
        turns.append(turn)
    mentioned = {i for t in turns for i in t.items}
    quirks["unlisted_questions"] = sum(1 for i in questions if i not in mentioned)
    return Dialogue(f"redial-{row.get('conversationId', '')}", turns, None,
                    {"source": "redial", "titles": {str(k): v for k, v in titles.items()},
                     "quirks": quirks})


def quirks(dialogues: list[Dialogue]) -> dict[str, int]:
    """The quirk counts of converted dialogues, summed (the keys of the module docstring)."""
    total = {"null_titles": 0, "dangling_mentions": 0, "unlisted_questions": 0}
    for d in dialogues:
        for k, v in (d.meta or {}).get("quirks", {}).items():
            total[k] = total.get(k, 0) + int(v)
    return total


def load(path: str | Path) -> list[Dialogue]:
    """Every conversation of a ReDial JSONL file; a bad line raises InputFileError with its number."""
    return read_lines(path, "a ReDial JSONL file", EXPECTED, convert)
