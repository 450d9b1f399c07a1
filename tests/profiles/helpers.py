"""Tiny pieces for profile tests: a tiny chat model over a tokenizer that also knows profile words,
and a tiny scalar-head model for the reward model."""

from __future__ import annotations

from tests.llm.tiny import CHATML

WORDS = ["User identity", "User interests", "student", "engineer", "parent", "space", "love", "war",
         "story", "Sci-Fi", "Romance", "Yes", "No", "Will user", "interact with item", "Answer Yes or No",
         "Similar user", "interacted with these items", "Write the profile of user", "weather"]


def profile_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<|im_start|>", "<|im_end|>"]
    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    corpus = [" ".join(WORDS)] * 4 + ["system user assistant\n", "0123456789: ,;()"] * 4
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    core.train_from_iterator(corpus, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", bos_token="<|im_start|>",
                                  eos_token="<|im_end|>", pad_token="<|im_end|>")
    tok.chat_template = CHATML
    return tok


def _config(tok, **kw):
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                       tie_word_embeddings=True, bos_token_id=tok.bos_token_id,
                       eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, **kw)


def tiny_chat(seed: int = 0):
    import torch
    from transformers import LlamaForCausalLM

    tok = profile_tokenizer()
    torch.manual_seed(seed)
    return LlamaForCausalLM(_config(tok)).eval(), tok


def tiny_scalar(seed: int = 0):
    import torch
    from transformers import LlamaForSequenceClassification

    tok = profile_tokenizer()
    torch.manual_seed(seed)
    return LlamaForSequenceClassification(_config(tok, num_labels=1)), tok


def tiny_chat_dir(root) -> str:
    """A saved tiny chat model + tokenizer folder (loadable by name like any local model)."""
    from pathlib import Path

    model, tok = tiny_chat()
    d = Path(root) / "tiny-chat"
    model.save_pretrained(d)
    tok.save_pretrained(d)
    return str(d)
