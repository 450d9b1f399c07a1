"""Jump-forward greedy decoding: the same answer as stepwise greedy decoding under the same processor,
with fewer model forwards than answer tokens; `generate` takes it for one constrained prompt."""

import pytest

from ctrlrec.llm.chat import prompt_text, stop_token_ids
from ctrlrec.llm.decoding import RowSpec
from ctrlrec.llm.generate import GenerationConfig, generate
from ctrlrec.llm.jump import greedy_jump
from ctrlrec.scoring import Intent
from tests.llm.test_pool_decoding import ACTION, _prompts, env  # noqa: F401  (the fixture)

SPECS = [
    RowSpec(k=3, mode="catalog", history=(1, 2)),
    RowSpec(k=4, mode="catalog", pool=(0, 3, 5, 7, 9, 11, 13)),
    RowSpec(k=3, mode="guaranteed", intents=(Intent("I1+", "Action"),)),
    RowSpec(k=3, mode="guaranteed", pool=tuple(range(12)), intents=(Intent("I1-", "Action"),),
            guide_items=(2, 6, 10), guide_scores=(3.0, 1.0, 0.5), guidance=1.0),
]


def _stepwise(model, tok, ids, proc, stops, max_new):
    import torch
    from transformers import LogitsProcessorList

    x = torch.tensor([ids])
    with torch.inference_mode():
        g = model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=max_new,
                           eos_token_id=stops, pad_token_id=tok.pad_token_id, use_cache=True,
                           do_sample=False, temperature=None, top_p=None, top_k=None,
                           logits_processor=LogitsProcessorList([proc]))
    return g[0, len(ids):].tolist()


@pytest.mark.parametrize("j", range(len(SPECS)))
def test_same_answer_as_stepwise_greedy_with_fewer_forwards(env, j):  # noqa: F811
    tok, cat, decoder, model = env
    spec = SPECS[j]
    ids = tok(prompt_text(tok, _prompts([spec])[0]), add_special_tokens=False)["input_ids"]
    stops = stop_token_ids(tok, model)
    n = decoder.max_new_tokens(spec.k)
    want = _stepwise(model, tok, ids, decoder.processor([spec]), stops, n)
    got, calls = greedy_jump(model, ids, decoder.processor([spec]), stops, n)
    assert got == want
    assert got[-1] in stops and calls < len(got)
    if spec.mode == "guaranteed" and spec.intents[0].kind == "I1-":
        titles = [t.split(". ", 1)[1] for t in tok.decode(got, skip_special_tokens=True).split("\n")]
        assert not {cat.titles.index(t) for t in titles} & set(ACTION)


def test_generate_takes_the_jump_for_one_constrained_prompt(env, monkeypatch):  # noqa: F811
    from ctrlrec.llm import jump

    tok, cat, decoder, model = env
    seen = []
    real = jump.greedy_jump
    monkeypatch.setattr(jump, "greedy_jump", lambda *a, **k: seen.append(1) or real(*a, **k))
    cfg = GenerationConfig(max_new_tokens=decoder.max_new_tokens(4), batch_size=1)
    one = generate(model, tok, _prompts(SPECS), cfg, progress=False, processors=decoder.factory(SPECS))
    assert len(seen) == len(SPECS)
    batched = generate(model, tok, _prompts(SPECS), GenerationConfig(
        max_new_tokens=cfg.max_new_tokens, batch_size=4), progress=False, processors=decoder.factory(SPECS))
    assert len(seen) == len(SPECS)  # a batch of several prompts decodes stepwise
    assert one == batched  # and gives the same answers
