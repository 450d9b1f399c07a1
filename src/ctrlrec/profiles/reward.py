"""The profile reward model: the LLM with a scalar head on a LoRA adapter, trained with TRL's
RewardTrainer (pairwise ranking loss -log sigmoid(r_chosen - r_rejected)).

Pairs share the single-round profile prompt of a user. Chosen: the teacher's profile. Rejected: a
profile the tuned model wrote under a deliberately wrong instruction (same history), or the teacher
profile of another user (substitution).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ctrlrec.errors import CtrlrecError
from ctrlrec.llm.chat import render


def pairs(prompts: dict[int, list[dict]], chosen: dict[int, str], wrong: dict[int, str],
          seed: int = 0) -> list[dict]:
    """Preference pairs in TRL's conversational shape (prompt, chosen, rejected), each with its
    `user` and `kind` (wrong: a wrong-instruction profile; other: another user's teacher profile),
    which training drops and `pair_accuracy` reports by."""
    rng = np.random.default_rng(seed)
    users = sorted(u for u in chosen if u in prompts)
    out = []
    for u in users:
        rejected = []
        if wrong.get(u) and wrong[u] != chosen[u]:
            rejected.append(("wrong", wrong[u]))
        others = [v for v in users if v != u and chosen[v] != chosen[u]]
        if others:
            rejected.append(("other", chosen[int(rng.choice(others))]))
        for kind, r in rejected:
            out.append({"prompt": prompts[u], "chosen": [{"role": "assistant", "content": chosen[u]}],
                        "rejected": [{"role": "assistant", "content": r}], "user": u, "kind": kind})
    return out


def lora_config(r: int = 8):
    from peft import LoraConfig

    return LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.0, target_modules="all-linear",
                      task_type="SEQ_CLS", bias="none")


def scalar_model(name_or_path: str, device: str = "cpu"):
    """The base LLM with a fresh scalar head (num_labels=1)."""
    from transformers import AutoModelForSequenceClassification

    from ctrlrec.llm.models import load_tokenizer, resolve

    tok = load_tokenizer(name_or_path)
    model = AutoModelForSequenceClassification.from_pretrained(resolve(name_or_path), num_labels=1)
    model.config.pad_token_id = tok.pad_token_id
    return model.to(device), tok


def longest(tok, rows: list[dict]) -> list[int]:
    """Tokens of each pair's longer side (prompt + chosen or prompt + rejected), rendered as the SFT
    stage renders a conversation; RewardTrainer drops every pair over its max_length without a word."""
    from ctrlrec.llm.chat import tokenise

    return [max(len(tokenise(tok, r["prompt"] + r[side]).input_ids) for side in ("chosen", "rejected"))
            for r in rows]


def reward_args(out: Path, on_gpu: bool, epochs: float = 1.0, lr: float = 1e-4, batch_size: int = 4,
                seed: int = 0, max_length: int = 512, progress: bool = True):
    """RewardTrainer's configuration. TRL's configs default to bf16 autocast on a CPU too; there a
    step of 4 pairs took 645 s against ~27-36 s in fp32 (docs/log/2026-12.md); CPU runs stay fp32
    (ctrlrec.llm.device). On a GPU TRL's choice stands."""
    from trl import RewardConfig

    return RewardConfig(output_dir=str(out / "trainer"), num_train_epochs=epochs, learning_rate=lr,
                        bf16=None if on_gpu else False,
                        per_device_train_batch_size=batch_size, seed=seed, report_to="none",
                        save_strategy="no", logging_steps=5, max_length=max_length,
                        use_cpu=not on_gpu, disable_tqdm=not progress,
                        dataloader_num_workers=0, gradient_checkpointing=False)


def train_reward_model(model, tok, rows: list[dict], out: str | Path, epochs: float = 1.0,
                       lr: float = 1e-4, lora_r: int = 8, batch_size: int = 4, seed: int = 0,
                       max_length: int = 512, progress: bool = True):
    """Train on `rows` with RewardTrainer (LoRA + scalar head); saves the adapter in `out`."""
    try:
        from datasets import Dataset
        from trl import RewardTrainer
    except ModuleNotFoundError as exc:
        raise CtrlrecError("the profile reward model needs TRL; expected the 'align' extra "
                           "(pip install -e '.[align]')") from exc
    from ctrlrec.atomic import atomic_dir

    if not rows:
        raise CtrlrecError("reward model: no preference pairs; expected teacher profiles of 2+ users")
    over = sum(n > max_length for n in longest(tok, rows))
    if over:
        raise CtrlrecError(f"reward model: {over} of {len(rows)} preference pairs are longer than max_length "
                           f"{max_length} tokens, and RewardTrainer would drop them; expected a larger "
                           "max_length or a smaller history_cap (ProfilesConfig)")
    out = Path(out)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tok.pad_token_id
    args = reward_args(out, next(model.parameters()).is_cuda, epochs, lr, batch_size, seed, max_length,
                       progress)
    keep = ("prompt", "chosen", "rejected")
    data = Dataset.from_list([{k: r[k] for k in keep} for r in rows])
    trainer = RewardTrainer(model=model, args=args, train_dataset=data,
                            processing_class=tok, peft_config=lora_config(lora_r))
    trainer.train()
    with atomic_dir(out / "adapter") as tmp:
        trainer.model.save_pretrained(tmp)
    return trainer.model


class RewardScorer:
    """Scalar rewards of (prompt, profile) pairs, batched (right padding, as in training)."""

    def __init__(self, model, tok, batch_size: int = 16):
        self.model, self.tok, self.batch_size = model.eval(), tok, batch_size

    @classmethod
    def load(cls, base: str, adapter: str | Path, device: str = "cpu", batch_size: int = 16) -> RewardScorer:
        from peft import PeftModel

        if not (Path(adapter) / "adapter_config.json").is_file():
            raise CtrlrecError(f"{adapter}: expected a reward-model adapter folder (adapter_config.json)")
        model, tok = scalar_model(base, device)
        return cls(PeftModel.from_pretrained(model, str(adapter)), tok, batch_size)

    def __call__(self, prompts: list[list[dict]], answers: list[str], progress: bool = False) -> np.ndarray:
        import torch

        ids = [self.tok(render(self.tok, [*p, {"role": "assistant", "content": a}]),
                        add_special_tokens=False)["input_ids"] for p, a in zip(prompts, answers, strict=True)]
        pad = self.tok.pad_token_id
        device = next(self.model.parameters()).device
        out = np.zeros(len(ids))
        for s in tqdm(range(0, len(ids), self.batch_size), desc="reward", disable=not progress, leave=False):
            chunk = ids[s:s + self.batch_size]
            width = max(len(x) for x in chunk)
            x = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros_like(x)
            for r, row in enumerate(chunk):
                x[r, :len(row)] = torch.tensor(row)
                mask[r, :len(row)] = 1
            with torch.inference_mode():
                logits = self.model(input_ids=x.to(device), attention_mask=mask.to(device)).logits
            out[s:s + len(chunk)] = logits[:, 0].float().cpu().numpy()
        return out


def pair_accuracy(scorer, rows: list[dict], progress: bool = False) -> dict:
    """How often `scorer` puts a pair's chosen side above its rejected side: overall and by `kind`,
    with the mean margin (chosen - rejected). Ties count as wrong."""
    if not rows:
        return {"pairs": 0, "accuracy": None, "margin": None, "by_kind": {}}
    prompts = [r["prompt"] for r in rows]
    chosen = scorer(prompts, [r["chosen"][-1]["content"] for r in rows], progress=progress)
    rejected = scorer(prompts, [r["rejected"][-1]["content"] for r in rows], progress=progress)
    margin = np.asarray(chosen) - np.asarray(rejected)

    def summary(mask):
        return {"pairs": int(mask.sum()), "accuracy": float((margin[mask] > 0).mean()),
                "margin": float(margin[mask].mean())}

    kinds = np.array([r.get("kind", "") for r in rows])
    return {**summary(np.ones(len(rows), dtype=bool)),
            "by_kind": {k: summary(kinds == k) for k in sorted(set(kinds.tolist())) if k}}
