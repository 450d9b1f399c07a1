"""Runs RecBole 1.2.1's SASRec inside the benchmark's temporary venv (not importable by ctrlrec).

Produces the RecBole side of docs/results.md, 'Teacher', rows 'ml-100k time to RecBole's best valid
NDCG@10' and 'ml-1m seconds an epoch' (run by bench/teacher_vs_recbole.py).

Usage: python _recbole_driver.py SPEC.json  -- SPEC names the data folder, hyper-parameters and
the JSON-lines file to append per-epoch records to. Uses RecBole's own Config / dataset / SASRec /
Trainer; the only change is in evaluation: like ctrlrec, the user's earlier items (the whole
history before the target, not just the last max_len) are masked in the full ranking.
"""

import json
import sys
import time

import numpy as np
import torch

spec = json.loads(open(sys.argv[1]).read())
torch.set_num_threads(spec["threads"])

from recbole.config import Config  # noqa: E402 (threads set first)
from recbole.data import create_dataset, data_preparation  # noqa: E402 (threads set first)
from recbole.model.sequential_recommender import SASRec  # noqa: E402 (threads set first)
from recbole.trainer import Trainer  # noqa: E402 (threads set first)
from recbole.utils import init_logger, init_seed  # noqa: E402 (threads set first)

LOG = open(spec["log"], "a")


def emit(rec):
    LOG.write(json.dumps(rec) + "\n")
    LOG.flush()


config = Config(model="SASRec", dataset=spec["dataset"], config_dict={
    "data_path": spec["data_path"], "checkpoint_dir": spec["checkpoint_dir"],
    "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id", "TIME_FIELD": "timestamp",
    "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
    "user_inter_num_interval": "[0,inf)", "item_inter_num_interval": "[0,inf)",
    "MAX_ITEM_LIST_LENGTH": spec["max_len"], "hidden_size": spec["hidden"],
    "inner_size": 4 * spec["hidden"], "n_layers": spec["layers"], "n_heads": spec["heads"],
    "hidden_dropout_prob": spec["dropout"], "attn_dropout_prob": spec["dropout"],
    "loss_type": "CE", "train_neg_sample_args": None,
    "train_batch_size": spec["batch_size"], "learning_rate": spec["lr"],
    "epochs": spec["epochs"], "stopping_step": spec["patience"], "eval_step": 1,
    "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full",
                  "group_by": "user"},
    "metrics": ["Hit", "NDCG"], "topk": [5, 10, 20], "valid_metric": "NDCG@10",
    "eval_batch_size": spec["eval_users"] * (spec["n_items"] + 1),
    "device": "cpu", "use_gpu": False, "seed": spec["seed"], "reproducibility": True,
    "show_progress": False, "worker": 0, "log_wandb": False,
})
init_seed(config["seed"], config["reproducibility"])
init_logger(config)
t_data = time.perf_counter()
dataset = create_dataset(config)
train_data, valid_data, test_data = data_preparation(config, dataset)
emit({"event": "data", "seconds": time.perf_counter() - t_data, "n_items": dataset.item_num - 1,
      "n_users": dataset.user_num - 1, "train_rows": len(train_data.dataset)})

# Each user's remapped, time-ordered item sequence, to mask everything before the target.
inter = dataset.inter_feat
uids, iids = inter["user_id"].numpy(), inter["item_id"].numpy()
order = np.lexsort((inter["timestamp"].numpy(), uids))
user_seq = {}
for u, i in zip(uids[order], iids[order], strict=False):
    user_seq.setdefault(int(u), []).append(int(i))


class MaskedTrainer(Trainer):
    def _full_sort_batch_eval(self, batched_data):
        interaction, scores, positive_u, positive_i = super()._full_sort_batch_eval(batched_data)
        rows, cols = [], []
        for r, (u, t) in enumerate(zip(interaction["user_id"].tolist(), positive_i.tolist(), strict=False)):
            seq = user_seq[u]
            hist = seq[:-1] if seq[-1] == t else seq[:-2]
            rows.extend([r] * len(hist))
            cols.extend(hist)
        scores[torch.tensor(rows, dtype=torch.long), torch.tensor(cols, dtype=torch.long)] = -np.inf
        return interaction, scores, positive_u, positive_i

    def _train_epoch(self, train_data, epoch_idx, loss_func=None, show_progress=False):
        t0 = time.perf_counter()
        loss = super()._train_epoch(train_data, epoch_idx, loss_func, show_progress)
        self._last_train_s = time.perf_counter() - t0
        return loss


model = SASRec(config, train_data.dataset).to(config["device"])
trainer = MaskedTrainer(config, model)
t_start, c_start = time.perf_counter(), time.process_time()


def on_epoch(epoch_idx, valid_score):
    emit({"event": "epoch", "epoch": epoch_idx + 1, "valid_ndcg@10": float(valid_score),
          "train_s": trainer._last_train_s, "wall_s": time.perf_counter() - t_start,
          "cpu_s": time.process_time() - c_start})


trainer.fit(train_data, valid_data, saved=True, show_progress=False, callback_fn=on_epoch)
fit_s = time.perf_counter() - t_start
test = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
emit({"event": "done", "fit_s": fit_s, "best_valid_ndcg@10": float(trainer.best_valid_score),
      "test": {k: float(v) for k, v in test.items()}})
