from ctrlrec.llm.chat import IGNORE, prompt_text, tokenise
from tests.llm.tiny import tiny_tokenizer, toy_samples


def test_labels_cover_exactly_the_assistant_answer_and_its_end_of_turn():
    tok = tiny_tokenizer()
    s = toy_samples(1)[0]
    t = tokenise(tok, s["messages"])
    labelled = [i for i, x in zip(t.input_ids, t.labels, strict=True) if x != IGNORE]
    assert tok.decode(labelled) == s["messages"][2]["content"] + "<|im_end|>"
    # the prompt (system + user + the assistant header) carries no loss and is what generation is fed
    n_prompt = next(i for i, x in enumerate(t.labels) if x != IGNORE)
    assert tok.decode(t.input_ids[:n_prompt]) == prompt_text(tok, s)
    # template glue after the end-of-turn token ("\n") is masked
    assert t.labels[-1] == IGNORE and t.input_ids[-1] != tok.eos_token_id


def test_end_of_turn_is_learned_although_it_equals_the_pad_token():
    tok = tiny_tokenizer()
    assert tok.pad_token_id == tok.eos_token_id
    t = tokenise(tok, toy_samples(1)[0]["messages"])
    answer = [x for x in t.labels if x != IGNORE]
    assert answer[-1] == tok.pad_token_id


def test_every_assistant_turn_is_labelled_and_user_turns_are_not():
    tok = tiny_tokenizer()
    msgs = [
        {"role": "user", "content": "Movie AA (1980)"},
        {"role": "assistant", "content": "Movie BB (1982)"},
        {"role": "user", "content": "Movie CC (1984)"},
        {"role": "assistant", "content": "Movie DD (1986)"},
    ]
    t = tokenise(tok, msgs)
    text = tok.decode(
        [
            i if x != IGNORE else tok.convert_tokens_to_ids("<unk>")
            for i, x in zip(t.input_ids, t.labels, strict=True)
        ],
        skip_special_tokens=False,
    )
    assert "Movie BB (1982)<|im_end|>" in text and "Movie DD (1986)<|im_end|>" in text
    assert "AA" not in text and "CC" not in text
    assert tok.decode(t.input_ids) == tok.apply_chat_template(msgs, tokenize=False)


def test_truncation_keeps_the_start_and_a_sample_without_answer_has_no_labels():
    tok = tiny_tokenizer()
    s = toy_samples(1)[0]
    full = tokenise(tok, s["messages"])
    cut = tokenise(tok, s["messages"], max_length=len(full.input_ids) - 5)
    assert cut.input_ids == full.input_ids[:-5]
    assert tokenise(tok, s["messages"][:2]).n_answer == 0
