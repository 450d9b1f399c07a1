"""The generation cache of profile builds: one JSONL file, appended to after every batch.

Each row is {"key", "text"}; the key is sha256(model fingerprint + prompt text), so a second build
with the same model and prompts reuses every answer and an interrupted build resumes where it
stopped. Round-2 judgements (`judge.log_odds` with a cache) live in the same file under keys of
their own, their log-odds written as text. Appends are flushed and fsynced per batch; a torn last
line (a kill mid-write) is ignored on reading, which loses at most that batch.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

# the version of the phrase rules (`shape.phrase_ok`), which decide where a constrained phrase may end:
# raise it when they change, so no cached answer decoded under older rules is reused
SHAPE_RULES = 2


def key(fingerprint: str, prompt: str) -> str:
    return hashlib.sha256(f"{fingerprint}\n{prompt}".encode()).hexdigest()


def model_file(path: Path) -> bool:
    """A file that decides what a model generates: weights, configs, tokenizer, chat template. Not a
    run's records (manifest.json, metrics, markers), which change when a finished stage is resumed
    or measured again and must not make its cached answers stale."""
    name = path.name
    return (path.suffix in (".safetensors", ".jinja", ".model") or name.endswith("config.json")
            or name in ("tokenizer.json", "special_tokens_map.json", "vocab.json", "merges.txt",
                        "added_tokens.json"))


def fingerprint_of(folder: str | Path) -> str:
    """sha256 over a model folder's model files (`model_file`: names, contents), checkpoints aside."""
    p = Path(folder)
    h = hashlib.sha256()
    files = sorted(f for f in p.rglob("*") if f.is_file() and model_file(f)
                   and "checkpoint" not in f.relative_to(p).as_posix())
    for f in files:
        h.update(f.relative_to(p).as_posix().encode())
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


class GenerationCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rows: dict[str, str] = {}
        self._torn = False
        if self.path.is_file():
            with self.path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                if fh.tell():
                    fh.seek(-1, os.SEEK_END)
                    self._torn = fh.read(1) != b"\n"
            with self.path.open("r", encoding="utf-8") as fh:
                for line in fh:
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a torn last line
                    self.rows[row["key"]] = row["text"]

    def __contains__(self, k: str) -> bool:
        return k in self.rows

    def __getitem__(self, k: str) -> str:
        return self.rows[k]

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, pairs: list[tuple[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            if self._torn:  # end the torn line, so the new rows start on a line of their own
                fh.write("\n")
                self._torn = False
            for k, t in pairs:
                fh.write(json.dumps({"key": k, "text": t}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.rows.update(pairs)


def generate_cached(model, tok, prompts: list[list[dict]], cache: GenerationCache, fingerprint: str,
                    batch_size: int = 16, max_new_tokens: int = 48, desc: str = "profiles",
                    progress: bool = True, sample_seed: int | None = None,
                    heads: list[list[str]] | None = None) -> list[str]:
    """Answers to `prompts`, generated (greedy, or sampled with `sample_seed`) only where not cached.

    heads: per prompt, the heads of the profiles its answer holds (`[""]` for one bare profile,
    `["User 3: ", "User 8: "]` for a user and a neighbour): decoding is then shape-constrained
    (`constrain.py`) and `max_new_tokens` grows to what the shape needs. None: free decoding.
    The bar counts profiles, so its rate is profiles per second.
    """
    from tqdm.auto import tqdm

    from ctrlrec.llm.chat import prompt_text
    from ctrlrec.llm.generate import GenerationConfig, generate

    texts = [prompt_text(tok, p) for p in prompts]
    tag = fingerprint if sample_seed is None else f"{fingerprint}|sample{sample_seed}"
    if heads is None:
        keys = [key(tag, t) for t in texts]
    else:  # a constrained answer is keyed by its heads and the version of the shape's rules too
        keys = [key(f"{tag}|shape{SHAPE_RULES}", f"{t}\n{json.dumps(h)}")
                for t, h in zip(texts, heads, strict=True)]
    todo = list(dict.fromkeys(k for k in keys if k not in cache))
    by_key = {k: t for k, t in zip(keys, texts, strict=True)}
    processors = None
    if heads is not None and todo:
        from ctrlrec.llm.chat import stop_token_ids
        from ctrlrec.profiles.constrain import ShapeDecoder

        shaper = ShapeDecoder(tok, stop_token_ids(tok, model))
        by_heads = {k: h for k, h in zip(keys, heads, strict=True)}
        max_new_tokens = max(max_new_tokens, max(shaper.budget(h) for h in heads))
    cfg = GenerationConfig(max_new_tokens=max_new_tokens, batch_size=batch_size,
                           do_sample=sample_seed is not None, temperature=0.9,
                           seed=sample_seed or 0)
    bar = tqdm(total=len(todo), desc=desc, unit="profile", disable=not progress, dynamic_ncols=True)
    for s in range(0, len(todo), batch_size):
        chunk = todo[s:s + batch_size]
        if heads is not None:
            def processors(idx, chunk=chunk):
                return shaper.processor([by_heads[chunk[i]] for i in idx])
        answers = generate(model, tok, [by_key[k] for k in chunk], cfg, progress=False,
                           processors=processors)
        cache.add(list(zip(chunk, answers, strict=True)))
        bar.update(len(chunk))
    bar.close()
    return [cache[k] for k in keys]
