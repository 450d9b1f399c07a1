import numpy as np

from ctrlrec.llm.chat import IGNORE, tokenise
from ctrlrec.profiles import rounds
from ctrlrec.profiles.prompts import (
    ItemText,
    collaborative_answer,
    collaborative_messages,
    question,
    with_question,
)
from tests.profiles.helpers import profile_tokenizer


def test_round2_rule_on_a_hand_made_example():
    history = [1, 2, 3]
    neighbours = [[2, 5], [6, 3, 7]]  # shared with the user: 2, 3; never seen by the user: 5, 6, 7
    seen_yes = seen_no = 0
    for seed in range(200):
        r = rounds.draw(0, history, neighbours, np.random.default_rng(seed))
        assert r.held_out in (2, 3)  # a training item that occurs in a neighbour's history
        assert r.negative in (5, 6, 7)
        if r.ask_yes:
            seen_yes += 1
            assert (r.item, r.answer) == (r.held_out, "Yes")
        else:
            seen_no += 1
            assert r.item in (5, 6, 7) and r.answer == "No"
        assert r.held_out not in rounds.without(history, r.held_out)
    assert 70 < seen_yes < 130 and seen_yes + seen_no == 200  # about half of the time each


def test_no_shared_item_gives_no_sample_and_no_negative_gives_yes():
    assert rounds.draw(0, [1, 2], [[3, 4]], np.random.default_rng(0)) is None
    for seed in range(20):
        r = rounds.draw(0, [1, 2, 3], [[2, 3]], np.random.default_rng(seed))
        assert r.negative is None and r.ask_yes and r.answer == "Yes"


def test_draw_all_is_seeded_per_user():
    hist = [[1, 2, 3], [2, 5], [3, 6, 7]]
    nbrs = [[1, 2], [0], [0]]
    a, b = rounds.draw_all(hist, nbrs, seed=3), rounds.draw_all(hist, nbrs, seed=3)
    assert a == b and set(a) == {0, 1, 2}


def test_masks_cover_both_assistant_turns_and_nothing_else():
    import pandas as pd

    tok = profile_tokenizer()
    cat = pd.DataFrame({"item_id": range(4), "title": ["space war", "love story", "war", "story"],
                        "categories": [["Sci-Fi"], ["Romance"], [], ["Romance"]]})
    text = ItemText(cat)
    round1 = "User 0: User identity: student, engineer, parent; User interests: space, war, Sci-Fi"
    answer1 = collaborative_answer(0, {0: round1.split(": ", 1)[1], 1: round1.split(": ", 1)[1]}, [1])
    round1_prompt = collaborative_messages(text, 0, [0, 2], [(1, [0, 1])])
    msgs = with_question(round1_prompt, answer1, question(text, 0, 1))
    msgs.append({"role": "assistant", "content": "No"})
    t = tokenise(tok, msgs)
    learned = [i for i, lab in zip(t.input_ids, t.labels, strict=True) if lab != IGNORE]
    end = tok.convert_tokens_to_ids("<|im_end|>")
    want = (tok(answer1, add_special_tokens=False)["input_ids"] + [end]
            + tok("No", add_special_tokens=False)["input_ids"] + [end])
    assert learned == want
    # every learned position is the label of itself, and the two spans are separate (a prompt between)
    spans = np.flatnonzero(np.diff(np.array([lab != IGNORE for lab in t.labels], dtype=int)) != 0)
    assert len(spans) == 4  # two starts and two ends: exactly two assistant spans
