"""The service's settings: one dataclass, every default documented where it is defined."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class ServeConfig:
    """How `ctrlrec serve` runs.

    model: SFT run folder, adapter folder, model folder or registry name (`ctrlrec.llm.models`).
    dataset: prepared dataset whose users, catalog and categories the service answers about.
    host / port: where uvicorn listens (loopback by default: put a proxy in front to expose it).
    backend: "transformers" (CPU or GPU, all three modes) or "vllm" (GPU, free mode; see docs/serve.md).
    device / precision: passed to `ctrlrec.llm.device.choose`.
    k_max: largest list length a request may ask for.
    history_max: most history items a request may send (titles or ids).
    text_max: most characters of free text in a request.
    prompt_history: most recent history items written into the prompt (the paper shows 10);
        every history item is still excluded from the answer.
    default_mode: decoding mode when a request names none ("free", "catalog", "guaranteed").
    max_batch: requests decoded together in one forward pass (micro-batching).
    max_wait_ms: how long the batcher waits for more requests after the first one arrives.
    queue_max: requests waiting for a batch; one more is answered 503 with Retry-After.
    timeout_s: a request waiting longer than this (queue + decoding) is answered 504.
    max_new_tokens_free: token budget of free-mode answers (constrained ones get what k needs).
    sample / temperature / top_p / seed: sampled instead of greedy decoding.
    trie_cache: keep the catalog trie in $CTRLREC_HOME/tries between runs.
    threads: torch CPU threads (0 = torch's default).
    chat_k: items per answer in the chat mode (page /crs).
    pool_mode: "auto" (the model's pipeline run decides), "paper" (the prompt names the history only)
        or "grounded" (the teacher's candidates are listed and decoding stays inside them).
    teacher: the teacher run that retrieves the grounded mode's candidates ("": the pipeline's own).
    guidance: weight of the teacher's scores where a title is chosen (catalog/guaranteed; 0 = off).
    feedback_dir: where the chat mode appends crs_feedback.jsonl; "" = the model's folder when it is
        a run or model folder, else runs/crs-chat.
    """

    model: str = "smollm2-135m"
    dataset: str = "ml-1m"
    host: str = "127.0.0.1"
    port: int = 8000
    backend: str = "transformers"
    device: str = "auto"
    precision: str = "auto"
    k_max: int = 50
    history_max: int = 200
    text_max: int = 500
    prompt_history: int = 10
    default_mode: str = "guaranteed"
    max_batch: int = 8
    max_wait_ms: float = 10.0
    queue_max: int = 64
    timeout_s: float = 60.0
    max_new_tokens_free: int = 320
    sample: bool = False
    temperature: float = 0.7
    top_p: float = 1.0
    seed: int = 0
    trie_cache: bool = True
    threads: int = 0
    chat_k: int = 5
    feedback_dir: str = ""
    pool_mode: str = "auto"
    teacher: str = ""
    guidance: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def feedback_dir(cfg: ServeConfig) -> Path:
    """The folder of the chat mode's feedback log (see ServeConfig.feedback_dir)."""
    if cfg.feedback_dir:
        return Path(cfg.feedback_dir)
    model = Path(cfg.model)
    return model if model.is_dir() else Path("runs/crs-chat")
