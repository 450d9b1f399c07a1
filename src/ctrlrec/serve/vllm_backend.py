"""Optional vLLM backend for a GPU host (free mode only; see docs/serve.md).

vLLM schedules its own continuous batches, so the micro-batcher simply hands it every batch. The
trie logits processor is a per-row state machine written for `transformers.generate`; vLLM's V1
engine only takes batch-level logits processors, so constrained modes stay on the transformers
backend (which runs on the same GPU). Not exercised by the test suite: this machine has no GPU.
"""

from __future__ import annotations

from ctrlrec.errors import CtrlrecError


class VllmBackend:
    constrained = False

    def __init__(self, cfg):
        try:
            from vllm import LLM, SamplingParams
        except ImportError as exc:
            raise CtrlrecError("backend 'vllm' needs the package vllm and a CUDA GPU") from exc
        from ctrlrec.llm.models import resolve

        self.cfg = cfg
        self.llm = LLM(model=resolve(cfg.model), dtype="auto", seed=cfg.seed)
        self.tokenizer = self.llm.get_tokenizer()
        self.params = SamplingParams(
            temperature=cfg.temperature if cfg.sample else 0.0, top_p=cfg.top_p if cfg.sample else 1.0,
            max_tokens=cfg.max_new_tokens_free)

    def generate(self, jobs) -> list[str]:
        outs = self.llm.chat([j.messages for j in jobs], self.params, use_tqdm=False)
        return [o.outputs[0].text.strip() for o in outs]
