"""Optional vLLM backend (a GPU and `pip install vllm`): same prompts in, same text lists out.

vLLM loads a plain model folder; an SFT run is read through its merged model (`ctrlrec sft merge`),
since serving a LoRA adapter needs the base model's name and per-request adapter handles. Greedy
decoding is temperature 0, as in the Hugging Face backend.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ctrlrec.errors import CtrlrecError


def check_available() -> None:
    if importlib.util.find_spec("vllm") is None:
        raise CtrlrecError("backend vllm: the package is not installed; expected `pip install vllm` "
                           "(or --backend hf)")
    import torch

    if not torch.cuda.is_available():
        raise CtrlrecError("backend vllm: no CUDA GPU is visible; expected a GPU (or --backend hf)")


def _model_folder(spec: str) -> str:
    from ctrlrec.llm.models import resolve

    p = Path(spec).expanduser()
    if p.is_dir() and not (p / "config.json").is_file():
        if (p / "merged" / "config.json").is_file():
            return str(p / "merged")
        raise CtrlrecError(f"{p}: vLLM needs a merged model; run `ctrlrec sft merge {p}` first "
                           "or use --backend hf")
    return resolve(spec)


def load_vllm(spec: str, gen):
    """(engine, tokenizer) for a model name, folder or SFT run with a merged model."""
    check_available()
    from vllm import LLM  # type: ignore[import-not-found]

    engine = LLM(model=_model_folder(spec), seed=gen.seed, max_num_seqs=max(gen.batch_size, 64))
    return engine, engine.get_tokenizer()


def generate_vllm(engine, prompts: list, gen) -> list[str]:
    from vllm import SamplingParams  # type: ignore[import-not-found]

    params = SamplingParams(max_tokens=gen.max_new_tokens, seed=gen.seed,
                            temperature=gen.temperature if gen.do_sample else 0.0,
                            top_p=gen.top_p if gen.do_sample else 1.0)
    outs = engine.chat(prompts, params, use_tqdm=False)
    return [o.outputs[0].text.strip() for o in outs]
