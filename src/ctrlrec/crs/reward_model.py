"""The engagement reward model R_phi: the LLM with LoRA and a scalar head, trained on preference
pairs of weak labels with the pairwise ranking loss  -log sigmoid(r_chosen - r_rejected).

The score of (conversation so far, recommendation turn) is a linear head on the last hidden state of
the last token of the rendered chat (conversations longer than `max_length` tokens keep their end,
where the recommendation is). The base is anything `ctrlrec.llm.models.load_any` reads (a registry
name, a model folder, an SFT run); an adapter in it is merged first. A run folder holds model/
(adapter/ (peft) and head.safetensors), rm.json (base, sizes, label weights, metrics) and metrics.csv.
While it trains, checkpoint/ holds the LoRA and head weights, the AdamW state and the loop state every
`save_every` steps: a rerun with the same data and config resumes there (a larger `steps` trains
longer), and one with other data or config is refused.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ctrlrec.atomic import atomic_dir, write_json
from ctrlrec.errors import CtrlrecError


def pairwise_loss(r_chosen, r_rejected):
    """mean over pairs of -log sigmoid(r_chosen - r_rejected) (Bradley-Terry / InstructGPT RM loss)."""
    import torch

    return -torch.nn.functional.logsigmoid(r_chosen - r_rejected).mean()


def pairwise_accuracy(r_chosen: np.ndarray, r_rejected: np.ndarray) -> float:
    """Share of pairs ranked right; a tie counts one half."""
    if len(r_chosen) == 0:
        return float("nan")
    d = np.asarray(r_chosen) - np.asarray(r_rejected)
    return float(np.mean((d > 0) + 0.5 * (d == 0)))


@dataclass
class RMConfig:
    model: str = "smollm2-135m"  # base LLM: registry name, model folder or SFT run
    output_dir: str = "runs/crs-rm"
    weights: str = ""  # label weights "accepted=1,sentiment=0.5,dwell=0.3,went_on=0.2,dwell_cap=120"
    k: int = 5  # list length named in the system line of dialogues that do not record one
    annotate: str = ""  # dataset whose catalog categories follow each recommended title ("" = titles only)
    lora_r: int = 8
    lora_alpha: int = 16
    learning_rate: float = 2e-4
    steps: int = 300  # optimiser steps
    batch_pairs: int = 8  # preference pairs per step
    max_length: int = 384  # tokens per scored conversation (the end is kept)
    valid_share: float = 0.2  # share of dialogues held out for pairwise accuracy
    min_gap: float = 0.1  # label gap a pair needs
    max_pairs: int = 16  # pairs drawn per dialogue
    eval_every: int = 100  # steps between held-out evaluations (and at the end)
    save_every: int = 50  # steps between checkpoints (run/checkpoint); a rerun resumes from the last
    max_valid_pairs: int = 300  # held-out pairs scored per evaluation (a seeded subset; 0 = all)
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    threads: int = 0  # torch CPU threads (0 = default)

    def check(self) -> None:
        for name in ("steps", "batch_pairs", "max_length", "lora_r", "eval_every", "save_every", "k"):
            if getattr(self, name) < 1:
                raise CtrlrecError(f"rm {name} = {getattr(self, name)}: expected a positive integer")
        if not 0 <= self.valid_share < 1:
            raise CtrlrecError("rm valid_share: expected a value in [0, 1)")


class RewardModel:
    """A backbone with a LoRA adapter 'rm' and a linear scalar head."""

    def __init__(self, model, tok, lora_r: int = 8, lora_alpha: int = 16, max_length: int = 384,
                 adapter: str | Path | None = None, seed: int = 0, catalog=None):
        import torch
        from peft import LoraConfig, PeftModel, get_peft_model

        if hasattr(model, "merge_and_unload"):
            model = model.merge_and_unload()
        for p in model.parameters():
            p.requires_grad_(False)
        model.config.use_cache = False
        if adapter is not None:
            self.peft = PeftModel.from_pretrained(model, str(adapter), is_trainable=True)
        else:
            cfg = LoraConfig(r=lora_r, lora_alpha=lora_alpha, lora_dropout=0.0, target_modules="all-linear",
                             bias="none", task_type="CAUSAL_LM")
            self.peft = get_peft_model(model, cfg)
        self.tok, self.max_length = tok, max_length
        self.catalog = catalog  # a ctrlrec.scoring.Catalog: recommended titles carry their categories
        self.decoder = self.peft.get_base_model().get_decoder()
        self.device = next(model.parameters()).device
        hidden = model.config.get_text_config().hidden_size
        g = torch.Generator().manual_seed(seed)
        self.head = torch.nn.Linear(hidden, 1).to(self.device, torch.float32)
        with torch.no_grad():
            self.head.weight.copy_(torch.randn(1, hidden, generator=g) / hidden ** 0.5)
            self.head.bias.zero_()
        self.lora = [p for n, p in self.peft.named_parameters() if "lora_" in n]
        for p in self.lora:
            p.requires_grad_(True)

    def parameters(self) -> list:
        return self.lora + list(self.head.parameters())

    def encode(self, conversations: list[list[dict]], progress: bool = False) -> list[list[int]]:
        from ctrlrec.crs.annotate import annotate
        from ctrlrec.llm.chat import render

        it = tqdm(conversations, desc="tokenise", unit="conv", disable=not progress, leave=False)
        return [self.tok(render(self.tok, annotate(m, self.catalog)),
                         add_special_tokens=False)["input_ids"][-self.max_length:] for m in it]

    def forward_ids(self, ids: list[list[int]]):
        """Scores [B] (with gradients when enabled) of tokenised conversations."""
        import torch

        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else 0
        width = max(len(x) for x in ids)
        inp = torch.full((len(ids), width), pad, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, x in enumerate(ids):
            inp[i, : len(x)] = torch.tensor(x)
            mask[i, : len(x)] = 1
        h = self.decoder(input_ids=inp.to(self.device), attention_mask=mask.to(self.device),
                         use_cache=False).last_hidden_state
        last = (mask.sum(1) - 1).to(self.device)
        return self.head(h[torch.arange(len(ids), device=self.device), last].float()).squeeze(-1)

    def score(self, conversations: list[list[dict]], batch_size: int = 8) -> np.ndarray:
        """R_phi of each conversation (its last turn is the recommendation), no gradients."""
        import torch

        self.peft.eval()
        out = []
        with torch.no_grad():
            for s in range(0, len(conversations), batch_size):
                out.append(self.forward_ids(self.encode(conversations[s: s + batch_size])).cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def save(self, folder: Path) -> None:
        from safetensors.torch import save_file

        self.peft.save_pretrained(str(folder / "adapter"))
        save_file({k: v.detach().cpu().contiguous() for k, v in self.head.state_dict().items()},
                  str(folder / "head.safetensors"))

    @classmethod
    def load(cls, run: str | Path, device: str = "auto", precision: str = "auto") -> RewardModel:
        """A trained reward model from its run folder."""
        from safetensors.torch import load_file

        from ctrlrec.crs.annotate import load_catalog
        from ctrlrec.llm.device import choose
        from ctrlrec.llm.models import load_any

        run = Path(run)
        meta_file = run / "rm.json"
        if not meta_file.is_file() or not (run / "model" / "head.safetensors").is_file():
            raise CtrlrecError(f"{run}: expected a reward-model run written by `ctrlrec crs rm train`")
        meta = json.loads(meta_file.read_text())
        model, tok = load_any(meta["config"]["model"], choose(device, precision))
        rm = cls(model, tok, max_length=meta["config"]["max_length"], adapter=run / "model" / "adapter",
                 catalog=load_catalog(meta["config"].get("annotate", "")))
        rm.head.load_state_dict(load_file(str(run / "model" / "head.safetensors"), device=str(rm.device)))
        return rm


def _scores(rm: RewardModel, ids: list[list[int]], batch: int = 16, desc: str = "") -> np.ndarray:
    """Scores of tokenised examples; a progress bar named `desc` when one is given."""
    import torch

    rm.peft.eval()
    starts = tqdm(range(0, len(ids), batch), desc=desc, unit="batch", disable=not desc, leave=False)
    with torch.no_grad():
        return np.concatenate([rm.forward_ids(ids[s: s + batch]).cpu().numpy()
                               for s in starts]) if ids else np.zeros(0)


def evaluate_pairs(rm: RewardModel, ids: list[list[int]], prs: list[tuple[int, int]],
                   desc: str = "") -> float:
    """Pairwise accuracy of the reward model on pairs of tokenised examples."""
    need = sorted({j for p in prs for j in p})
    sc = dict(zip(need, _scores(rm, [ids[j] for j in need], desc=desc).tolist(), strict=True))
    return pairwise_accuracy(np.array([sc[a] for a, _ in prs]), np.array([sc[b] for _, b in prs]))


def fit(rm: RewardModel, exs, cfg: RMConfig, run_dir: Path | None = None, progress: bool = True) -> dict:
    """Train on the pairs of the training groups; returns metrics (held-out pairwise accuracy...)."""
    import torch

    from ctrlrec.crs.rm_data import pairs, split_groups
    from ctrlrec.rl.logger import MetricsLog
    from ctrlrec.weights import save_checkpoint

    cfg.check()
    vdesc, tdesc = ("held-out pairs", "training pairs") if progress else ("", "")  # progress bars
    train_g, valid_g = split_groups(exs, cfg.valid_share, cfg.seed)
    all_pairs = pairs(exs, cfg.min_gap, cfg.max_pairs, cfg.seed)
    tr = [p for p in all_pairs if exs[p[0]].group in train_g]
    va = [p for p in all_pairs if exs[p[0]].group in valid_g]
    if cfg.max_valid_pairs and len(va) > cfg.max_valid_pairs:
        keep = np.random.default_rng(cfg.seed).choice(len(va), cfg.max_valid_pairs, replace=False)
        va = [va[j] for j in sorted(keep)]
    if not tr:
        raise CtrlrecError("no training pairs: expected dialogues whose recommendation turns have "
                           f"feedback with labels differing by more than {cfg.min_gap}")
    ids = rm.encode([e.messages for e in exs], progress)
    opt = torch.optim.AdamW(rm.parameters(), lr=cfg.learning_rate)
    rng = np.random.default_rng(cfg.seed)
    hist, t0, last_valid = [], time.perf_counter(), float("nan")
    metrics: dict = {"train_pairs": len(tr), "valid_pairs": len(va), "examples": len(exs)}
    trainable = torch.nn.ParameterList(rm.parameters())  # the same tensors: LoRA and head only
    key, start = resume_key(cfg, exs), 0
    if run_dir is not None and (run_dir / "checkpoint" / "state.json").is_file():
        state = _resume(run_dir, key, trainable, opt)
        start, hist, last_valid = state["step"], state["hist"], state["last_valid"]
        rng.bit_generator.state = state["rng"]
        metrics["valid_acc_before"] = state["valid_acc_before"]
    else:
        metrics["valid_acc_before"] = evaluate_pairs(rm, ids, va, vdesc) if va else float("nan")
    log = MetricsLog(run_dir, start, tensorboard=False) if run_dir is not None else None
    bar = tqdm(range(start, cfg.steps), desc="rm", unit="step", disable=not progress,
               initial=start, total=cfg.steps)
    for step in bar:
        rm.peft.train()
        batch = [tr[j] for j in rng.choice(len(tr), min(cfg.batch_pairs, len(tr)), replace=False)]
        r = rm.forward_ids([ids[a] for a, _ in batch] + [ids[b] for _, b in batch])
        loss = pairwise_loss(r[: len(batch)], r[len(batch):])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(rm.parameters(), 1.0)
        opt.step()
        hist.append(float(loss.detach()))
        bar.set_postfix(loss=f"{np.mean(hist[-20:]):.3f}")
        row = {"loss": hist[-1], "peak_rss_mb": _peak_rss_mb()}  # memory growth shows in metrics.csv
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            row["valid_acc"] = last_valid = (evaluate_pairs(rm, ids, va, vdesc)
                                             if va else float("nan"))
        if log is not None:
            log.log(step + 1, row)
        if run_dir is not None and ((step + 1) % cfg.save_every == 0 or step + 1 == cfg.steps):
            save_checkpoint(run_dir, trainable, opt, {
                "key": key, "step": step + 1, "hist": hist, "last_valid": last_valid,
                "rng": rng.bit_generator.state, "valid_acc_before": metrics["valid_acc_before"]})
    bar.close()
    metrics.update(valid_acc=last_valid, train_acc=evaluate_pairs(rm, ids, tr[:256], tdesc),
                   final_loss=float(np.mean(hist[-20:])),
                   seconds=time.perf_counter() - t0)
    return metrics


def _peak_rss_mb() -> float:
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1 << 20 if sys.platform == "darwin" else 1 << 10)


# what a checkpoint depends on: resumed only with the same examples and these settings
RESUME_FIELDS = ("model", "weights", "k", "annotate", "lora_r", "lora_alpha", "learning_rate", "batch_pairs",
                 "max_length", "valid_share", "min_gap", "max_pairs", "max_valid_pairs", "seed")


def resume_key(cfg: RMConfig, exs) -> str:
    import hashlib

    fields = [f for f in RESUME_FIELDS if f != "annotate" or cfg.annotate]  # keys of older runs hold
    body = {"config": {f: getattr(cfg, f) for f in fields},
            "examples": [[e.group, e.label, e.messages] for e in exs]}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _resume(run_dir: Path, key: str, trainable, opt) -> dict:
    from ctrlrec.weights import load_checkpoint

    ck = run_dir / "checkpoint"
    if json.loads((ck / "state.json").read_text()).get("key") != key:
        raise CtrlrecError(f"{ck}: trained on other dialogues or settings ({', '.join(RESUME_FIELDS)}); "
                           f"expected the same ones to resume. Move {run_dir} aside or use another --out")
    return load_checkpoint(run_dir, trainable, opt)


def train(cfg: RMConfig, dialogue_files: list[str], progress: bool = True) -> tuple[Path, dict]:
    """`ctrlrec crs rm train`: read dialogues (simulated, ReDial-converted or logged from the chat
    page), train, and write the run folder atomically. Returns (run folder, metrics)."""
    import torch

    from ctrlrec.crs import dialogue
    from ctrlrec.crs.annotate import load_catalog
    from ctrlrec.crs.labels import LabelWeights
    from ctrlrec.crs.rm_data import examples
    from ctrlrec.llm.device import choose
    from ctrlrec.llm.models import load_any
    from ctrlrec.manifest import manifest

    cfg.check()
    if not dialogue_files:
        raise CtrlrecError("rm train: expected at least one dialogue JSONL file")
    weights = LabelWeights.parse(cfg.weights)
    dialogues = [d for f in dialogue_files for d in dialogue.read(f)]
    exs = examples(dialogues, weights, cfg.k)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    model, tok = load_any(cfg.model, choose(cfg.device, cfg.precision))
    rm = RewardModel(model, tok, cfg.lora_r, cfg.lora_alpha, cfg.max_length, seed=cfg.seed,
                     catalog=load_catalog(cfg.annotate))
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = fit(rm, exs, cfg, out, progress)
    with atomic_dir(out / "model") as tmp:  # rm.json, written last, marks the run complete
        rm.save(tmp)
    write_json(out / "rm.json", {"config": asdict(cfg), "label_weights": weights.to_dict(),
                                 "files": list(dialogue_files), "metrics": metrics})
    write_json(out / "manifest.json",
               manifest("crs-rm", asdict(cfg), cfg.seed, status="done", metrics=metrics))
    return out, metrics
