"""Who writes the target profiles of the first fine-tuning (RecLM's ChatGPT step, done locally).

- `self` (default): the model's own best-of-n samples, plus the profile written from the data alone
  (`facts.py`), ranked by how well each profile lets the same model answer round 2 for that user
  (mean signed log-odds of the right answer on the held-out item and on a negative); the best valid
  one is the target, so a model that never keeps the shape still yields targets. The ranking is
  trusted only when the judge can answer: if, with the data-written profiles, its answers are not
  better than chance (one-sided binomial test, p >= `alpha`, over all ranked questions; run before
  any sampling), the data-written profile is every user's target and nothing is sampled (a small
  base model on CPU: its ranking is noise, and it picked its own junk samples for most users).
  `judge` records the test (`metrics.json`: teacher_judge).
- a local model (registry name, folder or run): its greedy profile.
- an OpenAI-compatible endpoint (`http(s)://HOST/v1`, e.g. a large model behind `vllm serve`), with
  `--teacher-model NAME` and the key, if any, in $OPENAI_API_KEY.
"""

from __future__ import annotations

import json
import math
import os
import urllib.error
import urllib.request
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from ctrlrec.errors import CtrlrecError
from ctrlrec.profiles import shape
from ctrlrec.profiles.cache import GenerationCache, generate_cached
from ctrlrec.profiles.constrain import heads
from ctrlrec.profiles.judge import log_odds
from ctrlrec.profiles.prompts import question, with_question


class ModelTeacher:
    """Greedy profiles from a local model."""

    def __init__(self, model, tok, name: str, fingerprint: str, cache: GenerationCache,
                 batch_size: int = 16, max_new_tokens: int = 48, constrain: bool = True):
        self.model, self.tok, self.name, self.fp, self.cache = model, tok, name, fingerprint, cache
        self.batch_size, self.max_new_tokens, self.constrain = batch_size, max_new_tokens, constrain

    def _generate(self, prompts, desc: str, sample_seed: int | None = None) -> list[str]:
        return generate_cached(self.model, self.tok, prompts, self.cache, self.fp, self.batch_size,
                               self.max_new_tokens, desc=desc, sample_seed=sample_seed,
                               heads=heads(prompts) if self.constrain else None)

    def write(self, prompts: list[list[dict]], probes=None, text=None, users=None, extra=None) -> list[str]:
        return self._generate(prompts, f"teacher {self.name}")


class SelfTeacher(ModelTeacher):
    """Best-of-n sampled profiles, ranked by round-2 log-odds on each user's probe questions."""

    def __init__(self, *args, n: int = 4, alpha: float = 0.05, **kwargs):
        super().__init__(*args, **kwargs)
        if n < 1:
            raise CtrlrecError(f"--best-of {n}: expected a positive integer")
        self.n, self.alpha = n, alpha
        self.judge: dict = {}

    def write(self, prompts, probes=None, text=None, users=None, extra=None) -> list[str]:
        """`extra`: per prompt, more candidates (the data-written profile first) ranked beside the
        samples. The judge is tested on the first extra candidates before anything is sampled: when
        it is at chance, those are the targets and no sample is drawn."""
        if extra:
            lo, where = self._judged(prompts, [[e[0]] for e in extra], probes, text, users)
            self.judge = judge_test(sum(sign * x > 0 for (_, _, sign), x in zip(where, lo, strict=True)),
                                    len(where), self.alpha)
            if not self.judge["ranked"] and all(shape.is_valid(e[0]) for e in extra):
                return [e[0] for e in extra]
        cands = [self._generate(prompts, f"sample {k + 1}/{self.n}", sample_seed=k + 1)
                 for k in range(self.n)]
        options = [[shape.canonical(c[i]) for c in cands] + list(extra[i] if extra else [])
                   for i in range(len(prompts))]
        lo, where = self._judged(prompts, options, probes, text, users)
        width = max(len(o) for o in options)
        score = np.zeros((len(prompts), width))
        count = np.zeros((len(prompts), width))
        for (i, j, sign), x in zip(where, lo, strict=True):
            score[i, j] += sign * x
            count[i, j] += 1
        score = score / np.maximum(count, 1)
        best = []
        for i in range(len(prompts)):
            k = len(options[i])
            valid = np.array([0.0 if shape.is_valid(o) else -1e3 for o in options[i]])
            best.append(options[i][int(np.argmax(score[i, :k] + valid))])
        return best

    def _judged(self, prompts, options, probes, text, users):
        """log P(Yes) - log P(No) for every (prompt i, option j, probe question), in one batched (and
        cached) pass, with `where` = (i, j, +1 for a Yes question, -1 for a No)."""
        convs, where = [], []
        for i, msgs in enumerate(prompts):
            for j, o in enumerate(options[i]):
                for item, yes in (probes[i] if probes else None) or []:
                    convs.append(with_question(msgs, o, question(text, users[i], item)))
                    where.append((i, j, 1.0 if yes else -1.0))
        lo = (log_odds(self.model, self.tok, convs, self.batch_size, progress=True, cache=self.cache,
                       fingerprint=self.fp) if convs else [])
        return lo, where


def judge_test(right: int, n: int, alpha: float) -> dict:
    """One-sided exact binomial test of `right` of `n` answers against chance (p = 1/2)."""
    p = sum(math.comb(n, k) for k in range(right, n + 1)) / 2 ** n if n else 1.0
    return {"questions": n, "accuracy": right / n if n else float("nan"), "p_value": p,
            "alpha": alpha, "ranked": p < alpha}


class EndpointTeacher:
    """Profiles from an OpenAI-compatible chat-completions endpoint (greedy, temperature 0)."""

    def __init__(self, url: str, model: str | None, cache: GenerationCache, max_tokens: int = 64,
                 timeout: float = 120.0):
        if not model:
            raise CtrlrecError(f"--teacher {url}: expected --teacher-model NAME (the served model)")
        self.url, self.model, self.cache = url.rstrip("/"), model, cache
        self.name = f"{model} @ {self.url}"
        self.max_tokens, self.timeout = max_tokens, timeout

    def _ask(self, messages: list[dict]) -> str:
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0,
                           "max_tokens": self.max_tokens}).encode()
        req = urllib.request.Request(f"{self.url}/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        if os.environ.get("OPENAI_API_KEY"):
            req.add_header("Authorization", f"Bearer {os.environ['OPENAI_API_KEY']}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data = json.loads(resp.read())
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise CtrlrecError(f"--teacher {self.url}: unreachable ({exc}); expected an OpenAI-compatible "
                               "server answering POST /chat/completions (e.g. `vllm serve MODEL`)") from exc
        except json.JSONDecodeError as exc:
            raise CtrlrecError(f"--teacher {self.url}: answered with something other than JSON; "
                               "expected an OpenAI-compatible chat-completions response") from exc
        try:
            return str(data["choices"][0]["message"]["content"]).strip()
        except (KeyError, IndexError, TypeError) as exc:
            raise CtrlrecError(f"--teacher {self.url}: expected choices[0].message.content in the "
                               "response") from exc

    def write(self, prompts: Sequence[list[dict]], probes=None, text=None, users=None,
              extra=None) -> list[str]:
        from ctrlrec.profiles.cache import key

        out = []
        for msgs in tqdm(prompts, desc=f"teacher {self.model}", unit="profile"):
            k = key(self.name, json.dumps(msgs, sort_keys=True))
            if k not in self.cache:
                self.cache.add([(k, self._ask(msgs))])
            out.append(self.cache[k])
        return out


def make_teacher(spec: str, model, tok, fingerprint: str, cache: GenerationCache, best_of: int = 4,
                 teacher_model: str | None = None, batch_size: int = 16, max_new_tokens: int = 48,
                 placement=None, constrain: bool = True):
    """The teacher named by `spec`: 'self', an http(s) endpoint, or a local model name/folder/run."""
    if spec == "self":
        return SelfTeacher(model, tok, "self", fingerprint, cache, batch_size, max_new_tokens, constrain,
                           n=best_of)
    if spec.startswith(("http://", "https://")):
        return EndpointTeacher(spec, teacher_model, cache, max_tokens=max_new_tokens + 16)
    from pathlib import Path

    from ctrlrec.llm.models import load_any, resolve

    t_model, t_tok = load_any(spec, placement)
    folder = Path(spec) if Path(spec).is_dir() else Path(resolve(spec))
    return ModelTeacher(t_model, t_tok, spec, fingerprint_or(folder, spec), cache, batch_size,
                        max_new_tokens, constrain)


def fingerprint_or(folder, name: str) -> str:
    from ctrlrec.profiles.cache import fingerprint_of

    return fingerprint_of(folder) if folder.is_dir() else name
