"""Chat formatting through the tokenizer's own chat template, and loss masks from the chat structure.

A conversation is rendered turn by turn: for each assistant message, the text the template produces
for everything before it (with the generation prompt) is the prompt, and what the full rendering adds
beyond that is the answer. Each piece is tokenised on its own and the ids are concatenated, so the
prompt tokens seen in training are exactly the ones fed to `generate` at inference time, and the loss
falls on answer tokens only (content plus the end-of-turn token). Masks never look at the pad id:
in SmolLM2 the pad token *is* the end-of-turn token, which the model must learn to emit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctrlrec.errors import CtrlrecError

IGNORE = -100  # label value that the loss skips


def render(tok, messages: list[dict], add_generation_prompt: bool = False) -> str:
    """The template's text for `messages`."""
    try:
        return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
    except Exception as exc:  # jinja errors on malformed roles/contents
        raise CtrlrecError(
            f"chat template failed on the messages ({exc}); expected role/content dicts"
        ) from exc


def prompt_messages(sample: dict) -> list[dict]:
    """The messages a model sees at inference: everything before a trailing assistant answer."""
    msgs = sample["messages"] if isinstance(sample, dict) else sample
    if msgs and msgs[-1]["role"] == "assistant":
        return list(msgs[:-1])
    return list(msgs)


def prompt_text(tok, sample: dict | list[dict]) -> str:
    """The prompt string (with the generation prompt) to continue at inference."""
    return render(tok, prompt_messages(sample), add_generation_prompt=True)


def stop_token_ids(tok, model=None) -> list[int]:
    """Ids that end an assistant turn: the tokenizer's eos plus the model's generation eos ids."""
    ids = set()
    if tok.eos_token_id is not None:
        ids.add(int(tok.eos_token_id))
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if eos is not None:
        ids.update(int(i) for i in (eos if isinstance(eos, list | tuple) else [eos]))
    if not ids:
        raise CtrlrecError("the tokenizer has no end-of-sequence token; expected a chat model")
    return sorted(ids)


def _ids(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"] if text else []


@dataclass(frozen=True)
class Tokenised:
    input_ids: list[int]
    labels: list[int]

    @property
    def n_answer(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


def tokenise(
    tok, messages: list[dict], max_length: int | None = None, stops: list[int] | None = None
) -> Tokenised:
    """input_ids and labels (IGNORE everywhere but assistant tokens) of one conversation."""
    stops = set(stops or stop_token_ids(tok))
    ids: list[int] = []
    labels: list[int] = []
    done = ""  # the rendering covered so far
    for i, msg in enumerate(messages):
        if msg["role"] != "assistant":
            continue
        before = render(tok, messages[:i], add_generation_prompt=True)
        upto = render(tok, messages[: i + 1])
        if not before.startswith(done) or not upto.startswith(before):
            raise CtrlrecError(
                "the chat template does not render conversations prefix by prefix; "
                "expected a template where the prompt of a turn is a prefix of the full rendering"
            )
        prompt_ids = _ids(tok, before[len(done) :])
        answer_ids = _ids(tok, upto[len(before) :])
        # Learn the answer through its end-of-turn token; template glue after it is not the model's job.
        cut = next((j + 1 for j, t in enumerate(answer_ids) if t in stops), len(answer_ids))
        ids += prompt_ids + answer_ids
        labels += [IGNORE] * len(prompt_ids) + answer_ids[:cut] + [IGNORE] * (len(answer_ids) - cut)
        done = upto
    rest = render(tok, messages)[len(done) :] if done else render(tok, messages)
    tail = _ids(tok, rest)
    ids += tail
    labels += [IGNORE] * len(tail)
    if max_length is not None and len(ids) > max_length:
        ids, labels = ids[:max_length], labels[:max_length]
    return Tokenised(ids, labels)
