"""Tiny pieces for RL tests: the tiny chat model of tests/llm, taught the list format in a few
seconds, prompts in the sample shape, and a second (WordPiece) tokenizer for placement tests."""

from __future__ import annotations

from tests.llm.tiny import TITLES, tiny_model, tiny_tokenizer, toy_samples

__all__ = ["TITLES", "action_reward", "action_samples", "formatted_tiny", "prompts", "shipped_rl",
           "tiny_model", "tiny_tokenizer", "unigram_tokenizer"]

# the [rl] settings that decide how far and how fast the policy moves, as the demo ships them
SHIPPED = ("learning_rate", "critic_learning_rate", "critic_warmup_steps", "list_credit", "ppo_epochs",
           "lora_r", "lora_alpha", "prompts_per_step", "mini_batch_size", "prompt_grad")


def prompts(n: int = 8) -> list[dict]:
    out = []
    for s in toy_samples(n):
        s = dict(s)
        s["messages"] = s["messages"][:-1]
        out.append(s)
    return out


def shipped_rl() -> dict:
    """The demo's [rl] settings of SHIPPED, read from configs/ml-100k.toml."""
    import tomllib
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "configs" / "ml-100k.toml"
    rl = tomllib.loads(path.read_text())["rl"]
    return {k: rl[k] for k in SHIPPED}


def action_samples(n: int) -> list[dict]:
    """The toy prompts with an I1+ intent on 'Action' (titles 'Movie A*' and 'Movie B*': 8 of 24)."""
    return [{**p, "intent": {"kind": "I1+", "category": "Action", "proportion": None}, "task": "I1+"}
            for p in prompts(n)]


def action_reward():
    """The real scoring reward over the toy titles, 'Movie A*' and 'Movie B*' in Action, the rest Drama."""
    import pandas as pd

    from ctrlrec.rl.rewards import ScoringReward
    from ctrlrec.scoring import Catalog

    cats = [["Action"] if t.startswith(("Movie A", "Movie B")) else ["Drama"] for t in TITLES]
    return ScoringReward(Catalog.from_frame(pd.DataFrame(
        {"item_id": range(len(TITLES)), "title": TITLES, "categories": cats})))


def formatted_tiny(steps: int = 150, seed: int = 0):
    """(model, tokenizer): the tiny Llama trained briefly on the toy chats, so it answers with
    numbered 'Movie XY (year)' lines (every first letter A-F about equally often)."""
    import torch

    from ctrlrec.llm.chat import tokenise

    tok = tiny_tokenizer()
    model = tiny_model(tok, seed, init=0.02)  # the usual init: PPO learns from a formatted model
    rows = [tokenise(tok, s["messages"]) for s in toy_samples(24)]
    width = max(len(r.input_ids) for r in rows)
    ids = torch.full((len(rows), width), tok.pad_token_id)
    labels = torch.full((len(rows), width), -100)
    for i, r in enumerate(rows):
        ids[i, : len(r.input_ids)] = torch.tensor(r.input_ids)
        labels[i, : len(r.labels)] = torch.tensor(r.labels)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    torch.manual_seed(seed)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=ids, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model, tok


def unigram_tokenizer():
    """A SentencePiece-style tokenizer (Unigram pieces, '▁' for spaces, no byte fallback) with the same
    ChatML template: a different family from the byte-level BPE of the tiny model. Its pieces cross
    title boundaries (')\n', '▁(19', '7)'), which is what placement must cope with."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from tests.llm.tiny import CHATML

    specials = ["<unk>", "<|im_start|>", "<|im_end|>"]
    core = Tokenizer(models.Unigram())
    core.normalizer = normalizers.NFC()
    core.pre_tokenizer = pre_tokenizers.Metaspace()
    core.decoder = decoders.Metaspace()
    corpus = ["\n".join(f"{i + 1}. {t}" for i, t in enumerate(TITLES[j:j + 5])) for j in range(0, 24, 5)]
    corpus += ["Amélie (2001)", "Star Wars: Episode IV - A New Hope (1977)", "Café Society", "system user",
               "- \"Léon: The Professional (1994)\"", "Here you go:"]
    trainer = trainers.UnigramTrainer(vocab_size=200, special_tokens=specials, unk_token="<unk>")
    core.train_from_iterator(corpus * 3, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", bos_token="<|im_start|>",
                                  eos_token="<|im_end|>", pad_token="<|im_end|>")
    tok.chat_template = CHATML
    return tok
