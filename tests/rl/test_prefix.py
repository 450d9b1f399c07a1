"""The prompt-once route: the same log-probs, values and (with prompt_grad) gradient as one full
forward per row; without prompt_grad a gradient from the response tokens' path only; each distinct
prompt runs once."""

import copy

import torch

from ctrlrec.rl import prefix
from ctrlrec.rl.model import ActorCritic
from ctrlrec.rl.rollout import pack


def _batch(tok):
    a = tok("<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n")["input_ids"]
    b = tok("<|im_start|>user\nno<|im_end|>\n<|im_start|>assistant\n")["input_ids"]
    p = [a, a, b, b]  # two prompts of different lengths, two responses each
    r = [tok(x)["input_ids"] for x in ("1. Movie AB (1980)\n2. Movie CD (1983)", "1. Movie EA (1984)",
                                       "1. Movie CD (1983)", "")]
    return pack(p, r, tok.pad_token_id, "cpu")


def _perturbed(model):
    torch.manual_seed(0)  # LoRA A's initialisation draws from the global generator
    ac = ActorCritic(model, lora_r=4, lora_alpha=8)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():  # LoRA B starts at 0; make both adapters matter
        for n, p in ac.peft.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return ac


def test_layout_groups_rows_by_prompt(formatted):
    _, tok = formatted
    b = _batch(tok)
    assert b["prompt_row"].tolist() == [0, 0, 1, 1]
    # the suffix starts with the prompt's last token, at its position in the full sequence
    n_a = int(b["prefix_mask"][0].sum()) + 1
    assert b["suffix_ids"][0, 0] == b["input_ids"][0, n_a - 1] and b["suffix_pos"][0, 0] == n_a - 1
    assert prefix.tensors([[5]], [[1, 2]], 0) is None  # a one-token prompt has no prefix


def test_same_logprobs_and_values_as_the_full_forward(formatted):
    model, tok = formatted
    ac = _perturbed(model)
    b = _batch(tok)
    full = {k: v for k, v in b.items() if k not in prefix.KEYS}
    m = b["mask"]
    with torch.no_grad():
        for adapter in ("actor", None):
            got = ac.logprobs(b, adapter) * m
            want = ac.logprobs(full, adapter) * m
            assert torch.allclose(got, want, atol=1e-4), adapter
        assert torch.allclose(ac.values(b) * m, ac.values(full) * m, atol=1e-4)
        assert not torch.allclose(ac.logprobs(b, "actor") * m, ac.logprobs(b, None) * m, atol=1e-3)


def test_gradient_exact_with_prompt_grad_and_cut_without(formatted):
    model, tok = formatted
    b = _batch(tok)
    full = {k: v for k, v in b.items() if k not in prefix.KEYS}

    def grads(batch, prompt_grad):
        ac = _perturbed(copy.deepcopy(model))
        ac.prompt_grad = prompt_grad
        ac.train(True)
        (ac.logprobs(batch, "actor") * b["mask"]).sum().backward()
        return torch.cat([p.grad.flatten() if p.grad is not None else torch.zeros(p.numel())
                          for p in ac.lora["actor"]])

    want = grads(full, True)
    assert torch.allclose(grads(b, True), want, atol=1e-4, rtol=1e-3)
    cut = grads(b, False)
    assert cut.abs().sum() > 0 and not torch.allclose(cut, want, atol=1e-4, rtol=1e-3)


def test_prompts_run_once(formatted, monkeypatch):
    model, tok = formatted
    ac = _perturbed(model)
    b = _batch(tok)
    widths = []
    real = ac.decoder.forward

    def spy(*a, **kw):
        widths.append(tuple(kw["input_ids"].shape))
        return real(*a, **kw)

    monkeypatch.setattr(ac.decoder, "forward", spy)
    with torch.no_grad():
        ac.logprobs(b, "actor")
    assert widths[0][0] == 2 and widths[1][0] == 4  # 2 distinct prompts, then 4 response rows


def test_generation_on_the_prompt_cache_matches_plain_generation(formatted):
    from ctrlrec.llm.generate import left_pad

    model, tok = formatted
    ac = _perturbed(model)
    a = tok("<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n")["input_ids"]
    b = tok("<|im_start|>user\nno<|im_end|>\n<|im_start|>assistant\n")["input_ids"]
    rows = [a, a, b, b]
    ids, mask = left_pad(rows, tok.pad_token_id)
    kw = dict(input_ids=ids, attention_mask=mask, max_new_tokens=10, do_sample=False,
              pad_token_id=tok.pad_token_id)
    with torch.inference_mode():
        plain = ac.generate(**kw)
        cache = prefix.generation_cache(ac.decoder, rows, tok.pad_token_id, "cpu")
        assert cache.get_seq_length() == ids.shape[1] - 1
        cached = ac.generate(**kw, cache=cache)
    assert torch.equal(plain, cached)
    assert prefix.generation_cache(ac.decoder, [[5], [5, 6]], 0, "cpu") is None


def test_trimmed_rows_give_the_same_logprobs(formatted):
    from ctrlrec.rl.rollout import Rollout

    model, tok = formatted
    ac = _perturbed(model)
    b = _batch(tok)
    roll = Rollout(prompt_index=[0, 0, 1, 1], response_ids=[[1]] * 4, texts=[""] * 4, tensors=b)
    idx = [2, 3]  # the shorter prompt's rows: a short response and an empty one
    cut = roll.rows(idx, trim=True)
    w = cut["mask"].shape[1]
    assert w == int(b["mask"][idx].sum(1).max()) < b["mask"].shape[1]
    assert cut["prefix_ids"].shape[1] < b["prefix_ids"].shape[1]
    assert cut["input_ids"].shape[1] < b["input_ids"].shape[1]
    full = {k: v for k, v in cut.items() if k not in prefix.KEYS}
    with torch.no_grad():
        want = ac.logprobs(roll.rows(idx), "actor")[:, :w] * cut["mask"]
        assert torch.allclose(ac.logprobs(cut, "actor") * cut["mask"], want, atol=1e-4)
        assert torch.allclose(ac.logprobs(full, "actor") * cut["mask"], want, atol=1e-4)
