import json

import pytest

from ctrlrec.errors import InputFileError
from ctrlrec.tasks.general import load_conversations


def test_sharegpt_and_chat_jsonl(tmp_path):
    share = tmp_path / "sg.json"
    share.write_text(json.dumps([
        {"id": "a", "conversations": [{"from": "human", "value": "Hi"},
                                      {"from": "gpt", "value": "Hello!"},
                                      {"from": "human", "value": "unanswered"}]},
        {"id": "b", "conversations": [{"from": "gpt", "value": "no user turn"}]},
        {"id": "c", "conversations": [{"from": "human", "value": "2+2?"},
                                      {"from": "gpt", "value": "4"}]},
    ]))
    convs = load_conversations(share)
    assert convs == [[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}],
                     [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]]
    chat = tmp_path / "c.jsonl"
    chat.write_text(json.dumps({"messages": [{"role": "user", "content": "x"},
                                             {"role": "assistant", "content": "y"}]}) + "\n")
    assert len(load_conversations(chat)) == 1


def test_bad_general_files(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        load_conversations(tmp_path / "none.json")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []}\n{oops\n')
    with pytest.raises(InputFileError, match="line 2"):
        load_conversations(bad)
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(InputFileError, match="no usable conversation"):
        load_conversations(empty)
