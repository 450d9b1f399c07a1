"""The teacher as later stages use it: batched top-k with category filters, and full rankings.

Histories are lists of dataset item ids (0..n_items-1), oldest first; the model sees the last
`max_len` of each, and every item of the whole history is masked.

Conventions:
- `topk` never returns a history item (nor one of `exclude_items`); a row with fewer eligible
  items than k is padded with -1.
- `ranking` orders the *whole* catalog: eligible items by descending score, then the history items
  (in item-id order). So every item has a rank, and a history item always ranks below every other.
- `ranks` is the inverse of `ranking`: ranks[b, i] = position of item i (0 = best).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load as load_tensors

from ctrlrec.errors import CtrlrecError
from ctrlrec.teacher.config import Runtime, TeacherConfig
from ctrlrec.teacher.sasrec import SASRec

Histories = Sequence[Sequence[int]]
CategoryArg = str | Sequence[str | None] | None


class Teacher:
    """A trained SASRec with its catalog's categories, ready to answer batched queries."""

    def __init__(self, model: SASRec, config: TeacherConfig, runtime: Runtime | None = None,
                 categories: list[str] | None = None, category_matrix: np.ndarray | None = None):
        self.runtime = runtime or Runtime(torch.device("cpu"), torch.float32)
        self.model = model.to(self.runtime.device).eval()
        self.config = config
        self.n_items = model.n_items
        self.categories = list(categories or [])
        self._cat_index = {c: j for j, c in enumerate(self.categories)}
        mat = np.zeros((0, self.n_items), bool) if category_matrix is None else category_matrix
        self.category_matrix = torch.as_tensor(mat, dtype=torch.bool, device=self.runtime.device)

    # ---- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, run_dir: str | Path, device: str = "auto", precision: str = "fp32") -> Teacher:
        """Load `model.safetensors`, `config.json` and `categories.json` from a run directory."""
        run = Path(run_dir)
        for name in ("config.json", "model.safetensors"):
            if not (run / name).is_file():
                raise CtrlrecError(f"{run}: no {name}; expected a teacher run directory "
                                   f"written by `ctrlrec teacher train`")
        meta = json.loads((run / "config.json").read_text())
        cfg = TeacherConfig.from_dict(meta["config"])
        model = SASRec(meta["n_items"], cfg)
        model.load_state_dict(load_tensors((run / "model.safetensors").read_bytes()))
        cats, mat = None, None
        if (run / "categories.json").is_file():
            c = json.loads((run / "categories.json").read_text())
            cats = c["categories"]
            mat = np.zeros((len(cats), meta["n_items"]), dtype=bool)
            for item, idx in enumerate(c["item_categories"]):
                mat[idx, item] = True
        return cls(model, cfg, Runtime.resolve(device, precision), cats, mat)

    # ---- core ----------------------------------------------------------------------------------
    def _check(self, histories: Histories) -> list[np.ndarray]:
        if isinstance(histories, (str, bytes)) or not isinstance(histories, Sequence):
            raise CtrlrecError("histories: expected a list of item-id lists")
        out = []
        for b, h in enumerate(histories):
            a = np.asarray(h, dtype=np.int64).reshape(-1)
            if a.size and (a.min() < 0 or a.max() >= self.n_items):
                raise CtrlrecError(f"histories[{b}]: item ids must be in 0..{self.n_items - 1}")
            out.append(a)
        return out

    def _pad(self, hs: list[np.ndarray]) -> torch.Tensor:
        """Left-padded, +1-shifted model input [B, L]: the last max_len items of each history."""
        n = max(1, min(self.config.max_len, max((len(h) for h in hs), default=1)))
        seq = np.zeros((len(hs), n), dtype=np.int64)
        for b, h in enumerate(hs):
            tail = h[-n:]
            if len(tail):
                seq[b, n - len(tail):] = tail + 1
        return torch.from_numpy(seq).to(self.runtime.device)

    def _mask(self, scores: torch.Tensor, items: list[np.ndarray]) -> None:
        """Set scores[b, i] = -inf for every i in items[b] (in place)."""
        lens = [len(x) for x in items]
        if sum(lens) == 0:
            return
        rows = np.repeat(np.arange(len(items)), lens)
        cols = np.concatenate([np.asarray(x, dtype=np.int64) for x in items])
        dev = scores.device
        scores[torch.from_numpy(rows).to(dev), torch.from_numpy(cols).to(dev)] = -torch.inf

    @torch.no_grad()
    def scores(self, histories: Histories, mask_history: bool = True) -> torch.Tensor:
        """[B, n_items] float32 next-item scores; history items -inf unless mask_history=False."""
        hs = self._check(histories)
        out = torch.empty(len(hs), self.n_items, dtype=torch.float32, device=self.runtime.device)
        step = self.config.eval_batch
        for s in range(0, len(hs), step):
            chunk = hs[s:s + step]
            with self.runtime.autocast():
                sc = self.model.score_last(self._pad(chunk))
            out[s:s + len(chunk)] = sc.float()
        if mask_history:
            self._mask(out, hs)
        return out

    # ---- queries -------------------------------------------------------------------------------
    def _category_rows(self, arg: CategoryArg, n: int, name: str) -> list[int | None]:
        if arg is None:
            return [None] * n
        per_row = [arg] * n if isinstance(arg, str) else list(arg)
        if len(per_row) != n:
            raise CtrlrecError(f"{name}: expected one category name, or a list with one entry "
                               f"(a name or None) per history ({n}), got {len(per_row)}")
        rows = []
        for c in per_row:
            if c is not None and c not in self._cat_index:
                shown = ", ".join(self.categories[:20]) or "(this teacher has no categories)"
                raise CtrlrecError(f"{name}: unknown category '{c}'; expected one of {shown}")
            rows.append(None if c is None else self._cat_index[c])
        return rows

    def _apply_categories(self, scores: torch.Tensor, rows: list[int | None], keep: bool) -> None:
        if all(r is None for r in rows):
            return
        sel = torch.tensor([r if r is not None else 0 for r in rows], device=scores.device)
        active = torch.tensor([r is not None for r in rows], device=scores.device)[:, None]
        member = self.category_matrix[sel]  # [B, n_items]
        drop = active & (~member if keep else member)
        scores.masked_fill_(drop, -torch.inf)

    def topk(self, histories: Histories, k: int, include: CategoryArg = None,
             exclude: CategoryArg = None,
             exclude_items: Sequence[Iterable[int]] | Sequence[int] | None = None) -> np.ndarray:
        """[B, k] item ids, best first; never history items nor `exclude_items`; -1 pads short rows.

        include / exclude: a category name for all histories, or a list with one name (or None)
        per history; include keeps only items of that category, exclude drops them.
        exclude_items: a list of item ids for all histories, or one list per history.
        """
        if not isinstance(k, (int, np.integer)) or not 1 <= k <= self.n_items:
            raise CtrlrecError(f"k: expected an integer in 1..{self.n_items}, got {k!r}")
        n = len(histories)
        inc = self._category_rows(include, n, "include")
        exc = self._category_rows(exclude, n, "exclude")
        sc = self.scores(histories)
        self._apply_categories(sc, inc, keep=True)
        self._apply_categories(sc, exc, keep=False)
        if exclude_items is not None:
            ex = list(exclude_items)
            if ex and all(isinstance(x, (int, np.integer)) for x in ex):
                ex = [ex] * n
            if len(ex) != n:
                raise CtrlrecError(f"exclude_items: expected a list of item ids or one list per "
                                   f"history ({n}), got {len(ex)}")
            self._mask(sc, self._check(ex))
        val, idx = torch.topk(sc, int(k), dim=1)
        idx[torch.isinf(val)] = -1
        return idx.cpu().numpy()

    def ranking(self, histories: Histories) -> np.ndarray:
        """[B, n_items] all item ids, best first; history items last (in item-id order)."""
        sc = self.scores(histories)
        # A stable sort keeps the -inf history items in item-id order at the end.
        return torch.sort(sc, dim=1, descending=True, stable=True).indices.cpu().numpy()

    def ranks(self, histories: Histories) -> np.ndarray:
        """[B, n_items] rank of every item (0 = best), the inverse permutation of `ranking`."""
        order = torch.from_numpy(self.ranking(histories))
        out = torch.empty_like(order)
        pos = torch.arange(self.n_items).expand_as(order)
        out.scatter_(1, order, pos)
        return out.numpy()
