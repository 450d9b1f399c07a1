"""Run a recommender over the fixed test sets, score every answer, write results, resume.

Layout of an evaluation folder:
  run.json           what was evaluated (recommender, dataset, test-set hashes); checked on resume
  <set>.jsonl        one record per case and variant: the case id, the answer, its ScoreResult JSON
  summary.json       means per set, with the control sentence and without it (a manifest)

Variant "control" is the prompt with the instruction, "plain" the same prompt without it (the paper's
figures in brackets); sets whose prompt has no control sentence (I0, I0@5, count) have one variant.
Records are appended one batch at a time in a single write; a torn last line (a crash mid-write) is
cut off when the file is reopened, and cases already present are skipped, so an interrupted run
resumes where it stopped. Every number comes from `ctrlrec.scoring`: the summary scores the stored
answers again with `score_batch` and averages with `BatchScores.mean_metrics`, over every case of the
set (an empty answer counts, reference-notes defect 6).
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ctrlrec.atomic import write_json
from ctrlrec.errors import CtrlrecError, InputFileError
from ctrlrec.eval.runner import Recommender, case_intents
from ctrlrec.manifest import manifest
from ctrlrec.scoring import Case, Catalog, score_batch
from ctrlrec.tasks.testsets import TEST_SETS, _fname

VARIANTS = ("control", "plain")


@dataclass
class EvalConfig:
    """What to evaluate and how the work is cut.

    tasks: test sets to run (names as in `ctrlrec.tasks.testsets.TEST_SETS`).
    limit: evaluate only the first N cases of each set (None = all); the same N cases for every model.
    limits: per-set overrides of `limit`, e.g. {"I0": 300} (more cases where the metric needs them).
    batch_size: cases per step; each step is one call to the recommender and one append per file.
    plain: also answer each control set's prompt without the control sentence.
    split: "test" (the fixed test sets) or "valid".
    """

    tasks: tuple[str, ...] = TEST_SETS
    limit: int | None = None
    limits: dict[str, int] = field(default_factory=dict)
    batch_size: int = 64
    plain: bool = True
    split: str = "test"

    def check(self) -> None:
        unknown = [t for t in self.tasks if t not in TEST_SETS]
        if unknown:
            raise CtrlrecError(f"tasks {unknown}: unknown; expected some of {', '.join(TEST_SETS)}")
        if self.limit is not None and self.limit < 1:
            raise CtrlrecError(f"limit {self.limit}: expected a positive number of cases per set")
        bad = {k: v for k, v in self.limits.items() if k not in TEST_SETS or not isinstance(v, int) or v < 1}
        if bad:
            raise CtrlrecError(f"limits {bad}: expected test set names with positive numbers of cases")
        if self.batch_size < 1:
            raise CtrlrecError(f"batch_size {self.batch_size}: expected a positive integer")
        if self.split not in ("test", "valid"):
            raise CtrlrecError(f"split {self.split!r}: expected test or valid")


def load_sets(testsets: Path, cfg: EvalConfig) -> dict[str, list[dict]]:
    """{set: cases} read from `testsets/<split>/<set>.jsonl`, cut to `cfg.limit`."""
    out = {}
    for name in cfg.tasks:
        path = Path(testsets) / cfg.split / f"{_fname(name)}.jsonl"
        if not path.is_file():
            if cfg.split == "valid":
                continue  # the validation split holds only some tasks
            raise InputFileError(path, "a test set written by `ctrlrec tasks testset`", "file not found")
        with open(path, encoding="utf-8") as fh:
            cases = [json.loads(line) for line in fh if line.strip()]
        n = cfg.limits.get(name, cfg.limit)
        out[name] = cases[:n] if n else cases
    return out


def variants_of(cases: list[dict], cfg: EvalConfig) -> tuple[str, ...]:
    """Both variants when the set's prompts carry a control sentence (and cfg.plain), else one."""
    has_control = any(c["messages"] != c["messages_plain"] for c in cases[:20])
    return VARIANTS if cfg.plain and has_control else VARIANTS[:1]


def to_case(case: dict, output: str) -> Case:
    """The scoring input of one answered test case (ids, so grounding is exact)."""
    return Case(output=output, k=int(case["k"]), intent=case_intents(case),
                history=case["history_ids"], target=case.get("target_id"),
                teacher=case.get("teacher_ids"), id=case["id"])


class ResultFile:
    """One set's JSONL of answered cases: read what is done, append a batch in one write."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def records(self) -> list[dict]:
        """Complete records; a torn last line (interrupted write) is removed from the file."""
        if not self.path.is_file():
            return []
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):  # the last write was cut: drop its partial line
            with open(self.path, "r+b") as fh:
                fh.truncate(end)
            data = data[:end]
        out = []
        for n, line in enumerate(data.splitlines(), 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    raise InputFileError(self.path, "JSON lines written by `ctrlrec eval`",
                                         f"line {n} is not JSON") from None
        return out

    def append(self, records: list[dict]) -> None:
        payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)


def _identity(rec: Recommender, dataset: str, testsets: Path, cfg: EvalConfig) -> dict:
    mf = Path(testsets) / "testsets_manifest.json"
    meta = json.loads(mf.read_text()) if mf.is_file() else {}
    return {"recommender": rec.describe(), "dataset": dataset, "split": cfg.split,
            "testsets": str(testsets), "testsets_sha256": meta.get("sha256"),
            "testsets_teacher": meta.get("teacher")}


def _check_resume(out: Path, ident: dict) -> None:
    path = out / "run.json"
    if path.is_file():
        old = json.loads(path.read_text())
        for key in ("recommender", "dataset", "split", "testsets_sha256"):
            if old.get(key) != ident.get(key):
                raise CtrlrecError(f"{out}: holds results of a different {key} ({old.get(key)!r}); "
                                   "expected the same evaluation to resume, or a fresh --out folder")
    write_json(path, ident)


def run_eval(rec: Recommender, testsets: Path, catalog: Catalog, out: Path, cfg: EvalConfig,
             dataset: str = "", progress: bool = True) -> dict:
    """Answer and score every pending case, then write and return the summary."""
    cfg.check()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sets = load_sets(testsets, cfg)
    ident = _identity(rec, dataset, testsets, cfg)
    _check_resume(out, ident)
    todo = []
    for name, cases in sets.items():
        rf = ResultFile(out / f"{_fname(name)}.jsonl")
        done = {(r["id"], r["variant"]) for r in rf.records()}
        for variant in variants_of(cases, cfg):
            pending = [c for c in cases if (c["id"], variant) not in done]
            todo += [(name, variant, rf, pending[i:i + cfg.batch_size])
                     for i in range(0, len(pending), cfg.batch_size)]
    timing = defaultdict(float)
    t_all = time.perf_counter()
    bar = tqdm(total=sum(len(b[3]) for b in todo), desc=f"eval {rec.name}", unit="case",
               disable=not progress)
    try:
        for name, variant, rf, batch in todo:
            t0 = time.perf_counter()
            answers = rec.recommend(batch, plain=variant == "plain")
            t1 = time.perf_counter()
            if len(answers) != len(batch):
                raise CtrlrecError(f"recommender {rec.name} returned {len(answers)} answers for "
                                   f"{len(batch)} cases; expected one each")
            scores = score_batch(catalog, [to_case(c, a) for c, a in zip(batch, answers, strict=True)])
            t2 = time.perf_counter()
            rf.append([{"id": c["id"], "set": name, "variant": variant, "user": c.get("user"),
                        "k": c["k"], "intent": c["intent"], "target": c.get("target"),
                        "output": a, "score": scores.to_json(i)}
                       for i, (c, a) in enumerate(zip(batch, answers, strict=True))])
            t3 = time.perf_counter()
            timing["recommend_s"] += t1 - t0
            timing["score_s"] += t2 - t1
            timing["write_s"] += t3 - t2
            timing["cases"] += len(batch)
            bar.update(len(batch))
    finally:
        bar.close()
    timing["generate_s"] = float(getattr(rec, "seconds", timing["recommend_s"]))
    timing["cache_hits"] = int(getattr(rec, "cache_hits", 0))  # answers reused from an identical prompt
    t_sum = time.perf_counter()
    summary = summarise(out, sets, catalog, cfg)
    timing["summary_s"] = time.perf_counter() - t_sum
    timing["total_s"] = time.perf_counter() - t_all
    summary.update(ident, label=rec.name)
    timing["cases"] = int(timing["cases"])
    summary["timing"] = dict(timing)
    write_json(out / "summary.json", manifest("eval", asdict(cfg), None, **summary))
    return summary


def _means(cases: list[dict], answers: list[str], catalog: Catalog) -> dict:
    scores = score_batch(catalog, [to_case(c, a) for c, a in zip(cases, answers, strict=True)])
    n_lines = np.diff(scores.offsets)
    res = {"n": len(cases), "empty": int((n_lines == 0).sum()), "metrics": scores.mean_metrics()}
    res["guards"] = guards(cases, scores)
    n_parts = int(scores.n_parts.max()) if len(cases) else 1
    if n_parts > 1:  # combined instructions: TCP/CPA per part (part j of every case)
        first = np.searchsorted(scores.part_case, np.arange(len(cases)))
        res["parts"] = []
        for j in range(n_parts):
            part = {}
            for name in ("TCP", "CPA"):
                v = scores.part_metrics[name][first + j]
                part[name] = float(np.nanmean(v)) if (~np.isnan(v)).any() else None
            res["parts"].append(part)
    ks = sorted({int(c["k"]) for c in cases})
    if len(ks) > 1:  # e.g. the count test: every metric against k
        res["by_k"] = {}
        for k in ks:
            idx = [i for i, c in enumerate(cases) if int(c["k"]) == k]
            res["by_k"][str(k)] = _means([cases[i] for i in idx], [answers[i] for i in idx],
                                         catalog)["metrics"]
    return res


def guards(cases: list[dict], scores) -> dict:
    """What tells a chooser from a copier: the share of each list that is the teacher's own top k
    (`teacher_overlap`), and in the grounded mode the share of its items inside the case's pool."""
    overlap, in_pool = [], []
    for i, c in enumerate(cases):
        k = int(c["k"])
        items = [x for x in scores.to_json(i)["item_ids"][:k] if x is not None]
        if c.get("teacher_ids") is not None:
            overlap.append(len(set(items) & set(c["teacher_ids"][:k])) / k)
        if c.get("pool_ids") is not None and items:
            pool = set(c["pool_ids"])
            in_pool.append(sum(x in pool for x in items) / len(items))
    return {"teacher_overlap": float(np.mean(overlap)) if overlap else None,
            "in_pool": float(np.mean(in_pool)) if in_pool else None}


def summarise(out: Path, sets: dict[str, list[dict]], catalog: Catalog, cfg: EvalConfig) -> dict:
    """Means per set and variant over the cases of `sets` found in `out` (scored again)."""
    result: dict = {"sets": {}}
    for name, cases in sets.items():
        recs = {(r["id"], r["variant"]): r for r in ResultFile(out / f"{_fname(name)}.jsonl").records()}
        entry: dict = {"cases": len(cases)}
        for variant in variants_of(cases, cfg):
            got = [(c, recs[(c["id"], variant)]["output"]) for c in cases if (c["id"], variant) in recs]
            if not got:
                entry[variant] = None
                continue
            entry[variant] = _means([c for c, _ in got], [a for _, a in got], catalog)
            entry[variant]["complete"] = len(got) == len(cases)
        entry.setdefault("plain", None)
        result["sets"][name] = entry
    return result
