"""Self-replay for I4: the base model's own answers to general prompts, generated once and cached.

Without a general-conversation file, fine-tuning on recommendation lists alone makes a small model
forget how to chat. Training on its own earlier answers keeps that behaviour (a cheap stand-in for the
paper's ShareGPT data that needs no download): `$CTRLREC_HOME/replay/<model>.jsonl`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ctrlrec import paths
from ctrlrec.atomic import atomic_file
from ctrlrec.errors import CtrlrecError
from ctrlrec.tasks.general import GENERAL_PROMPTS, load_conversations


def cache_path(model: str) -> Path:
    return paths.home() / "replay" / (re.sub(r"[^A-Za-z0-9_.-]+", "_", model) + ".jsonl")


def self_replay(model: str, prompts=GENERAL_PROMPTS, generation=None) -> list[list[dict]]:
    """Conversations [user, assistant] answered by `model`; generated on the first call only.

    `generation`: a `ctrlrec.llm.generate.GenerationConfig` (default: greedy, 160 new tokens)."""
    path = cache_path(model)
    if not path.is_file():
        from ctrlrec.llm.generate import GenerationConfig, generate
        from ctrlrec.llm.models import load

        llm, tok = load(model)
        chats = [[{"role": "user", "content": p}] for p in prompts]
        answers = generate(llm, tok, chats,
                           generation or GenerationConfig(max_new_tokens=160, batch_size=8))
        if not any(a.strip() for a in answers):
            raise CtrlrecError(f"{model} answered none of the {len(chats)} general prompts; "
                               "expected a chat model (or pass --general FILE)")
        with atomic_file(path) as fh:
            for chat, answer in zip(chats, answers, strict=True):
                if answer.strip():
                    msgs = chat + [{"role": "assistant", "content": answer.strip()}]
                    fh.write(json.dumps({"messages": msgs}, ensure_ascii=False) + "\n")
    return load_conversations(path)


def general_conversations(spec: str) -> list[list[dict]] | None:
    """The I4 conversations named by `--general` / `[tasks] general`: "none" (no I4), "replay:MODEL"
    (the model's own cached answers) or a chat JSONL/JSON file."""
    if spec == "none":
        return None
    if spec.startswith("replay:"):
        return self_replay(spec.split(":", 1)[1])
    return load_conversations(spec)
