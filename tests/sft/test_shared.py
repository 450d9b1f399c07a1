"""SFT batching "shared": a group's common prompt runs once; the loss and its gradient are those of one
padded forward per sample; the Trainer trains with it."""

import copy
import json

import torch

from ctrlrec.llm.chat import IGNORE
from ctrlrec.sft.config import SFTConfig
from ctrlrec.sft.data import Collator, TokenisedSamples
from ctrlrec.sft.shared import GroupedSamples, SharedCollator, _split, shared_loss
from ctrlrec.sft.trainer import build_trainer
from tests.llm.tiny import tiny_model, tiny_model_dir, tiny_tokenizer, toy_samples

EXTRA = (" Skip the first.", " Only the best please.", "")


def grouped_samples(n_groups: int = 2) -> list[dict]:
    """Groups of three samples: one history prompt each, three instructions, three answers."""
    out = []
    base = toy_samples(n_groups * 3)
    for g in range(n_groups):
        for j, extra in enumerate(EXTRA):
            s = copy.deepcopy(base[g])
            s["messages"][1]["content"] += extra
            s["messages"][2]["content"] = base[g * 3 + j]["messages"][2]["content"]
            s["group"] = g
            out.append(s)
    return out


def _rows(tok, samples):
    ds = TokenisedSamples(tok, samples, 256, progress=False)
    return ds, GroupedSamples(ds.rows, ds.groups)


def test_groups_split_before_the_first_answer_token_at_the_common_prefix():
    tok = tiny_tokenizer()
    samples = grouped_samples(2) + toy_samples(1)  # the last has no group: a group of its own
    ds, grouped = _rows(tok, samples)
    assert len(grouped) == 3 and [len(g["rows"]) for g in grouped] == [3, 3, 1]
    rows = grouped[0]["rows"]
    cut = _split(rows)
    assert all(r["input_ids"][:cut] == rows[0]["input_ids"][:cut] for r in rows)
    assert len({r["input_ids"][cut] for r in rows}) > 1  # the next token differs: the longest prefix
    alone = grouped[2]["rows"][0]
    assert _split([alone]) == alone["labels"].index(next(x for x in alone["labels"] if x != IGNORE))


def test_loss_and_gradient_equal_one_padded_forward_per_sample():
    tok = tiny_tokenizer()
    model = tiny_model(tok, init=0.2)
    model.config.use_cache = False
    ds, grouped = _rows(tok, grouped_samples(2))
    batch = SharedCollator(tok.pad_token_id)([grouped[0], grouped[1]])
    assert batch["prefix_ids"].shape[0] == 6 and len(set(batch["prompt_row"].tolist())) == 2
    want = model(**Collator(tok.pad_token_id)(ds.rows)).loss  # HF's mean over the answer tokens
    want.backward()
    g_want = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    got = shared_loss(model, batch, prompt_grad=True)
    got.backward()
    assert torch.allclose(got, want, atol=1e-5)
    for n, p in model.named_parameters():
        if n in g_want:
            assert torch.allclose(p.grad, g_want[n], atol=1e-5, rtol=1e-4), n
    model.zero_grad()
    cut = shared_loss(model, batch, prompt_grad=False)
    cut.backward()
    assert torch.allclose(cut, want, atol=1e-5)  # the same loss; the prefix's path is left out
    emb = model.get_input_embeddings().weight.grad
    q0 = model.model.layers[0].self_attn.q_proj.weight.grad
    assert emb is not None and not torch.allclose(q0, g_want["model.layers.0.self_attn.q_proj.weight"])


def test_trainer_with_shared_batches_learns_the_answers(tmp_path):
    samples = grouped_samples(2)
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(s) + "\n" for s in samples))
    cfg = SFTConfig(model=str(tiny_model_dir(tmp_path)), train_file=str(train),
                    output_dir=str(tmp_path / "run"),
                    batching="shared", batch_size=2, grad_accum=1, max_steps=40, learning_rate=3e-2,
                    warmup_steps=0.0, lora_r=8, lora_alpha=16, lora_dropout=0.0, eval_every=0,
                    save_every=1000, logging_steps=1, precision="fp32", device="cpu")
    trainer = build_trainer(cfg, progress=False)
    assert type(trainer).__name__ == "SharedPrefixTrainer" and len(trainer.train_dataset) == 2
    trainer.train()
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert len(losses) == 40 and sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
