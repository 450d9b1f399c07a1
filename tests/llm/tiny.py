"""A tiny chat model for tests: a ~0.1M-parameter Llama from a config and a BPE tokenizer trained on
the fly with `tokenizers`, given a ChatML template. No network; builds in well under a second."""

from __future__ import annotations

from pathlib import Path

CHATML = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

TITLES = [f"Movie {chr(65 + i)}{chr(65 + j)} ({1980 + i + j})" for i in range(6) for j in range(4)]


def toy_samples(n: int = 8) -> list[dict]:
    """Instruction samples in the ctrlrec JSONL shape: a history in, a fixed 3-title list out."""
    out = []
    for u in range(n):
        hist = [TITLES[(u + j) % len(TITLES)] for j in range(3)]
        answer = [TITLES[(u * 5 + 7 + j) % len(TITLES)] for j in range(3)]
        out.append(
            {
                "messages": [
                    {"role": "system", "content": "You recommend movies."},
                    {"role": "user", "content": "I watched: " + "; ".join(hist) + ". Recommend 3 movies."},
                    {
                        "role": "assistant",
                        "content": "\n".join(f"{i + 1}. {t}" for i, t in enumerate(answer)),
                    },
                ],
                "task": "I0",
                "intent": {"kind": "I0", "category": None, "proportion": None},
                "k": 3,
                "history": [(u + j) % len(TITLES) for j in range(3)],
                "target": (u * 5 + 7) % len(TITLES),
                "labels": [(u * 5 + 7 + j) % len(TITLES) for j in range(3)],
            }
        )
    return out


def tiny_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<|im_start|>", "<|im_end|>"]
    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    corpus = [m["content"] for s in toy_samples(24) for m in s["messages"]] + ["system user assistant\n"] * 4
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    core.train_from_iterator(corpus, trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="<unk>",
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
    )
    tok.chat_template = CHATML
    return tok


def tiny_model(tok, seed: int = 0, init: float = 0.5):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=48,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        initializer_range=init,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    return LlamaForCausalLM(cfg)


def tiny_model_dir(root: Path) -> Path:
    """A saved tiny model + tokenizer folder, loadable by `ctrlrec.llm.models.load(path)`."""
    tok = tiny_tokenizer()
    model = tiny_model(tok)
    d = Path(root) / "tiny-llama"
    model.save_pretrained(d)
    tok.save_pretrained(d)
    return d
