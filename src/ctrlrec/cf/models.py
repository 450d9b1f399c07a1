"""The CF models by name."""

from __future__ import annotations

from ctrlrec.cf.biasmf import BiasMF
from ctrlrec.cf.lightgcn import LightGCN
from ctrlrec.cf.ncf import NCF
from ctrlrec.cf.sgl import SGL
from ctrlrec.cf.simgcl import SimGCL
from ctrlrec.errors import CtrlrecError

MODELS = {"biasmf": BiasMF, "ncf": NCF, "lightgcn": LightGCN, "sgl": SGL, "simgcl": SimGCL}
NAMES = {"biasmf": "BiasMF", "ncf": "NCF", "lightgcn": "LightGCN", "sgl": "SGL",
         "simgcl": "SimGCL"}


def build(cfg, n_users, n_items, train, user_side=None, item_side=None):
    if cfg.model not in MODELS:
        raise CtrlrecError(f"--model {cfg.model}: expected one of {', '.join(MODELS)}")
    return MODELS[cfg.model](cfg, n_users, n_items, train, user_side=user_side,
                             item_side=item_side)
