"""People in the loop: chat sessions with the recommender and their feedback log (no HTTP here).

A person writes; the recommender answers with k catalog titles (catalog decoding: no item shown
or named before in the session; `ctrlrec.crs.mentions` grounds the titles a person names, and the
categories they ask to leave out are enforced by guaranteed decoding); the person accepts or rejects
items. The page sends that feedback, with the
dwell time it measured and whether the person went on (wrote again) or left, and each feedback
becomes one line of `crs_feedback.jsonl` in the run directory: a Dialogue in the dialogue format
(the session so far, feedback on its last recommender turn only), which `ctrlrec crs rm train`
reads like any dialogue file. Lines are appended in one O_APPEND write each.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

from ctrlrec.crs import state
from ctrlrec.crs.dialogue import Dialogue, Feedback, Turn, append
from ctrlrec.crs.mentions import Mentions
from ctrlrec.errors import CtrlrecError

LOG_NAME = "crs_feedback.jsonl"


class UnknownSession(CtrlrecError):
    """A session id the server does not hold (HTTP 404)."""


class ChatSessions:
    """In-memory sessions (the newest `max_sessions`) around one recommender."""

    def __init__(self, rec, log_dir: str | Path, k: int = 5, max_sessions: int = 500, text_max: int = 500):
        self.rec, self.k, self.max_sessions, self.text_max = rec, k, max_sessions, text_max
        self.log = Path(log_dir) / LOG_NAME
        self.sessions: dict[str, list[Turn]] = {}
        self.logged = 0
        self.lock = threading.Lock()
        self._mentions: Mentions | None = None

    @property
    def mentions(self) -> Mentions:
        if self._mentions is None:
            self._mentions = Mentions(list(self.rec.catalog.titles), list(self.rec.categories))
        return self._mentions

    def _generate(self, turns: list[Turn]) -> str:
        from ctrlrec.llm.decoding import RowSpec, decode
        from ctrlrec.llm.generate import GenerationConfig

        if self.rec.model is None:
            raise CtrlrecError("the chat needs the transformers backend (the model runs in this process)")
        shown = tuple(dict.fromkeys(i for t in turns for i in t.items))
        said = " ".join(t.text for t in turns if t.role == "user")
        exclude = self.mentions.exclusions(said)
        spec = RowSpec(self.k, "guaranteed" if exclude else "catalog", shown, exclude)
        cfg = GenerationConfig(max_new_tokens=64, batch_size=1)
        return decode(self.rec.model, self.rec.tok, self.rec.decoder, [state.messages(turns, self.k)],
                      [spec], cfg)[0]

    def turn(self, session: str | None, text: str) -> dict:
        """Add the person's message and the recommender's answer; returns the answer's items."""
        text = self.rec.clean_text(text)
        if not text or len(text) > self.text_max:
            raise CtrlrecError(f"text: expected 1..{self.text_max} characters of message")
        with self.lock:
            if session is None:
                session = uuid.uuid4().hex
                if len(self.sessions) >= self.max_sessions:
                    self.sessions.pop(next(iter(self.sessions)))
                self.sessions[session] = []
            turns = self._session(session)
            turns.append(Turn("user", text, self.mentions.items(text)))
            answer = self._generate(turns).strip()
            ids = [i for i in state.ground(self.rec.catalog, answer) if i >= 0]
            turns.append(Turn("recommender", answer, ids))
            return {"session": session, "turn": len(turns) - 1, "text": answer,
                    "items": [self.rec.item(i) for i in ids]}

    def _session(self, session: str) -> list[Turn]:
        if session not in self.sessions:
            raise UnknownSession(f"session {session!r} is unknown (expired or never started); "
                                 "start a new chat")
        return self.sessions[session]

    def feedback(self, session: str, turn: int, accepted: list[int], rejected: list[int], dwell: float,
                 went_on: bool, sentiment: float | None = None) -> dict:
        """Log the person's reaction to recommender turn `turn` as one dialogue line."""
        with self.lock:
            turns = self._session(session)
            if not 0 <= turn < len(turns) or turns[turn].role != "recommender":
                raise CtrlrecError(f"turn {turn}: expected the index of a recommender turn of this session")
            shown = set(turns[turn].items)
            bad = [i for i in list(accepted) + list(rejected) if i not in shown]
            if bad or set(accepted) & set(rejected):
                raise CtrlrecError(f"feedback items {bad or sorted(set(accepted) & set(rejected))}: expected "
                                   "items of that turn, each either accepted or rejected")
            if not (dwell >= 0):
                raise CtrlrecError("dwell: expected seconds >= 0")
            if sentiment is None:
                n = len(accepted) + len(rejected)
                sentiment = (len(accepted) - len(rejected)) / n if n else 0.0
            if not -1 <= sentiment <= 1:
                raise CtrlrecError("sentiment: expected a value in [-1, 1]")
            fb = Feedback(bool(accepted), float(sentiment), float(dwell), bool(went_on),
                          list(accepted), list(rejected))
            turns[turn].feedback = fb
            past = [Turn(t.role, t.text, t.items) for t in turns[:turn]]  # earlier feedback is logged already
            d = Dialogue(session, past + [turns[turn]], None,
                         {"source": "chat", "k": self.k, "time": time.time(), "turn": turn})
            append(self.log, [d.to_json()])
            self.logged += 1
            return {"logged": self.logged, "file": str(self.log)}
