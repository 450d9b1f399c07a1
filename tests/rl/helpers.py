"""Tiny pieces for RL tests: the tiny chat model of tests/llm, taught the list format in a few
seconds, prompts in the sample shape, and a second (WordPiece) tokenizer for placement tests."""

from __future__ import annotations

from tests.llm.tiny import TITLES, tiny_model, tiny_tokenizer, toy_samples

__all__ = ["TITLES", "formatted_tiny", "prompts", "tiny_model", "tiny_tokenizer", "unigram_tokenizer"]


def prompts(n: int = 8) -> list[dict]:
    out = []
    for s in toy_samples(n):
        s = dict(s)
        s["messages"] = s["messages"][:-1]
        out.append(s)
    return out


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
