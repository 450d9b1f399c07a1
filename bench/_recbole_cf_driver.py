"""Runs RecBole 1.2.1's BPR or LightGCN inside the benchmark's temporary venv (not importable by
ctrlrec). Usage: python _recbole_cf_driver.py SPEC.json -- SPEC names the data folder (our split as
RecBole benchmark files .train/.valid/.test.inter), the hyper-parameters and the JSON-lines log.
Uses RecBole's own Config / dataset / model / Trainer unchanged; records one line per epoch.

Produces the RecBole side of docs/results.md, 'CF models', rows 'LightGCN against RecBole 1.2.1' and
'BPR-MF against RecBole's BPR' (run by bench/cf_vs_recbole.py).
"""

import json
import sys
import time

import torch

spec = json.loads(open(sys.argv[1]).read())
torch.set_num_threads(spec["threads"])

from recbole.config import Config  # noqa: E402 (threads set first)
from recbole.data import create_dataset, data_preparation  # noqa: E402 (threads set first)
from recbole.model.general_recommender import BPR, LightGCN  # noqa: E402 (threads set first)
from recbole.trainer import Trainer  # noqa: E402 (threads set first)
from recbole.utils import init_logger, init_seed  # noqa: E402 (threads set first)

LOG = open(spec["log"], "a")


def emit(rec):
    LOG.write(json.dumps(rec) + "\n")
    LOG.flush()


MODEL = {"bpr": BPR, "lightgcn": LightGCN}[spec["model"]]
config = Config(model=MODEL.__name__, dataset=spec["dataset"], config_dict={
    "data_path": spec["data_path"], "checkpoint_dir": spec["checkpoint_dir"],
    "benchmark_filename": ["train", "valid", "test"],
    "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id",
    "load_col": {"inter": ["user_id", "item_id"]},
    "user_inter_num_interval": "[0,inf)", "item_inter_num_interval": "[0,inf)",
    "embedding_size": spec["dim"], "n_layers": spec["layers"], "reg_weight": spec["reg"],
    "train_neg_sample_args": {"distribution": "uniform", "sample_num": 1},
    "train_batch_size": spec["batch_size"], "learning_rate": spec["lr"],
    "epochs": spec["epochs"], "stopping_step": spec["patience"], "eval_step": 1,
    "eval_args": {"group_by": "user", "order": "RO", "mode": "full"},
    "metrics": ["Recall", "NDCG"], "topk": [20], "valid_metric": "Recall@20",
    "eval_batch_size": 4096 * 64,
    "device": "cpu", "use_gpu": False, "seed": spec["seed"], "reproducibility": True,
    "show_progress": False, "worker": 0, "log_wandb": False,
})
init_seed(config["seed"], config["reproducibility"])
init_logger(config)
dataset = create_dataset(config)
train_data, valid_data, test_data = data_preparation(config, dataset)
emit({"event": "data", "n_items": dataset.item_num - 1, "n_users": dataset.user_num - 1,
      "train_rows": len(train_data.dataset)})


class TimedTrainer(Trainer):
    def _train_epoch(self, train_data, epoch_idx, loss_func=None, show_progress=False):
        t0 = time.perf_counter()
        loss = super()._train_epoch(train_data, epoch_idx, loss_func, show_progress)
        self._train_s = getattr(self, "_train_s", 0.0) + time.perf_counter() - t0
        return loss


model = MODEL(config, train_data.dataset).to(config["device"])
trainer = TimedTrainer(config, model)
t_start = time.perf_counter()


def on_epoch(epoch_idx, valid_score):
    emit({"event": "epoch", "epoch": epoch_idx + 1, "recall@20": float(valid_score),
          "train_s": trainer._train_s, "wall_s": time.perf_counter() - t_start})


trainer.fit(train_data, valid_data, saved=True, show_progress=False, callback_fn=on_epoch)
fit_s = time.perf_counter() - t_start
test = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
emit({"event": "done", "fit_s": fit_s, "best_valid": float(trainer.best_valid_score),
      "test": {k: float(v) for k, v in test.items()}})
