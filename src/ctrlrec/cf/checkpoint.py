"""A CF run directory. Tensors in safetensors, everything else in JSON; atomic writes.

run/
  config.json        {"config": CFConfig, "split": summary, "train_sha256": str}
  model.safetensors  best weights so far (side vectors included, as buffers)
  metrics.json       validation history, best epoch, test metrics
  manifest.json      config, seed, package versions
  checkpoint/        last finished epoch: state.safetensors (weights + Adam state), state.json
"""

from __future__ import annotations

import hashlib

import numpy as np

from ctrlrec.weights import (  # noqa: F401  (re-exported: the run's weights and checkpoint)
    load_checkpoint,
    load_weights,
    save_checkpoint,
    save_weights,
)


def pairs_sha(pairs: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pairs, dtype=np.int64).tobytes()).hexdigest()
