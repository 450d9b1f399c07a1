"""I4: general conversation mixed in against forgetting (paper §2.2.1, ShareGPT).

Reads a ShareGPT-format JSON/JSONL file (`[{"conversations": [{"from": "human"|"gpt", "value"}]}]`)
or chat JSONL (`{"messages": [{role, content}]}`). Without one, a self-replay set is used: the base
model's own answers to general prompts, generated once and cached (see `ctrlrec tasks replay`).
"""

from __future__ import annotations

import json
from pathlib import Path

from ctrlrec.errors import InputFileError

_ROLE = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
         "chatgpt": "assistant", "bard": "assistant", "bing": "assistant", "system": "system"}
EXPECTED = ('ShareGPT JSON (a list of {"conversations": [{"from", "value"}]}) or JSONL with '
            '{"messages": [{"role", "content"}]}')

# Prompts for self-replay: general requests unrelated to recommendation, forms x topics.
_FORMS = (
    "Explain {t} in two or three sentences.",
    "Give three short facts about {t}.",
    "Write a four-line poem about {t}.",
)
_TOPICS = (
    "why the sky is blue", "how bread rises", "the water cycle", "photosynthesis",
    "how a bicycle stays upright", "the moon's phases", "volcanoes", "how vaccines work",
    "the history of the printing press", "why we sleep", "how rainbows form", "honeybees",
    "the game of chess", "compound interest", "the Great Wall of China", "how magnets work",
)
GENERAL_PROMPTS = tuple(f.format(t=t) for t in _TOPICS for f in _FORMS) + (
    "What is 17 multiplied by 23? Show the steps.",
    "Translate 'good morning, how are you?' into French.",
    "Write a short, polite email declining a meeting invitation.",
    "Give me a tongue twister.",
)


def _to_messages(obj) -> list[dict] | None:
    if isinstance(obj, dict) and isinstance(obj.get("messages"), list):
        msgs = obj["messages"]
    elif isinstance(obj, dict) and isinstance(obj.get("conversations"), list):
        msgs = [{"role": _ROLE.get(str(t.get("from", "")).lower()), "content": t.get("value")}
                for t in obj["conversations"] if isinstance(t, dict)]
    else:
        return None
    msgs = [m for m in msgs if m.get("role") in ("system", "user", "assistant")
            and isinstance(m.get("content"), str) and m["content"].strip()]
    # keep only conversations that end with an assistant turn after a user turn
    while msgs and msgs[-1]["role"] != "assistant":
        msgs.pop()
    if not any(m["role"] == "user" for m in msgs):
        return None
    return [{"role": m["role"], "content": m["content"]} for m in msgs]


def load_conversations(path: str | Path) -> list[list[dict]]:
    """All usable conversations of a ShareGPT or chat-JSONL file."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, EXPECTED, "file not found")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(text)
        records = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        records = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputFileError(path, EXPECTED, f"line {n}: {exc.msg}") from None
    convs = [c for c in (_to_messages(r) for r in records) if c]
    if not convs:
        raise InputFileError(path, EXPECTED, "no usable conversation")
    return convs
