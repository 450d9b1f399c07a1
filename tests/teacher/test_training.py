import json

import numpy as np
import pytest
import torch
from teacher_synth import N_ITEMS, tiny_config

from ctrlrec.errors import CtrlrecError
from ctrlrec.teacher import Teacher
from ctrlrec.teacher.evaluate import (
    Popularity,
    evaluate,
    metrics,
    split_histories,
    target_ranks,
)
from ctrlrec.teacher.sasrec import SASRec
from ctrlrec.teacher.train import make_windows, train


def test_overfits_to_hr1(trained_run, cyclic):
    run, res = trained_run
    assert res["test"]["hr@5"] == 1.0
    teacher = Teacher.load(run, device="cpu")
    hs, targets = split_histories(cyclic, "test")
    assert (target_ranks(teacher, hs, targets) == 0).all()  # HR@1 = 1
    assert res["test"]["ndcg@10"] > res["popularity"]["ndcg@10"]


def test_run_directory_contents(trained_run):
    run, _ = trained_run
    for name in ("config.json", "categories.json", "model.safetensors", "metrics.json",
                 "manifest.json", "checkpoint/state.json", "checkpoint/state.safetensors"):
        assert (run / name).is_file(), name
    man = json.loads((run / "manifest.json").read_text())
    assert man["stage"] == "teacher" and man["seed"] == 7 and "torch" in man["versions"]
    assert not list(run.glob("**/*.pt")) and not list(run.glob("**/*.pkl"))


def test_save_load_round_trip_exact(trained_run, cyclic):
    run, _ = trained_run
    a = Teacher.load(run, device="cpu")
    b = Teacher.load(run, device="cpu")
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k]), k
    hs = [cyclic.sequences[u][:-1] for u in range(5)]
    assert torch.equal(a.scores(hs), b.scores(hs))


def test_resume_matches_uninterrupted(tmp_path, cyclic):
    cfg = tiny_config(epochs=6, dropout=0.2)
    full = train(cfg, tmp_path / "full", ds=cyclic, progress=False)

    def stop_after_3(rec):
        if rec["epoch"] == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "cut", ds=cyclic, progress=False, on_epoch=stop_after_3)
    state = json.loads((tmp_path / "cut" / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 3
    with pytest.raises(CtrlrecError, match="--resume"):
        train(cfg, tmp_path / "cut", ds=cyclic, progress=False)
    resumed = train(cfg, tmp_path / "cut", ds=cyclic, progress=False, resume=True)
    assert resumed["epochs_run"] == 6
    assert [h["loss"] for h in resumed["history"]] == [h["loss"] for h in full["history"]]
    assert resumed["test"] == full["test"]


def test_bce_loss_and_prenorm_learn(tmp_path, cyclic):
    cfg = tiny_config(loss="bce", negatives=4, prenorm=True, epochs=40)
    res = train(cfg, tmp_path / "bce", ds=cyclic, progress=False)
    assert res["test"]["hr@5"] > 0.9


def test_windows_cover_every_target():
    seqs = [np.arange(1, 30), np.arange(5), np.array([3])]
    w = make_windows(seqs, max_len=8, mode="chunks", rng=np.random.default_rng(0))
    assert w.shape[1] == 9
    targets = set()
    for row in w:
        inp, tgt = row[:-1], row[1:]
        targets |= {(int(a), int(b)) for a, b in zip(inp, tgt, strict=False) if a}
    expected = {(int(s[i - 1]) + 1, int(s[i]) + 1) for s in seqs for i in range(1, len(s))}
    assert targets == expected
    last = make_windows(seqs, max_len=8, mode="last", rng=np.random.default_rng(0))
    assert len(last) == 2 and last[0, -1] == 30


@pytest.mark.parametrize("prenorm", [False, True])
def test_model_paths_agree(prenorm):
    cfg = tiny_config(prenorm=prenorm)
    torch.manual_seed(0)
    m = SASRec(N_ITEMS, cfg).eval()
    seq = torch.tensor([[0, 0, 0, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6, 7, 8]])
    h = m(seq)
    assert h.shape == (2, 8, 32) and torch.isfinite(h).all()
    assert torch.allclose(m.score_last(seq), m.logits(h[:, -1]), atol=1e-5)
    # left padding does not change the prediction of the real items
    assert torch.allclose(m.score_last(seq[:1, 3:]), m.score_last(seq[:1]), atol=1e-5)


def test_metrics_and_popularity():
    assert metrics(np.array([0, 1, 30]), ks=(1, 10))["hr@1"] == pytest.approx(1 / 3)
    assert metrics(np.array([1]), ks=(10,))["ndcg@10"] == pytest.approx(1 / np.log2(3))
    pop = Popularity([np.array([1, 1, 2]), np.array([1, 3])], 5)
    sc = pop.scores([[1]])
    assert sc[0, 1] == -torch.inf and int(sc.argmax()) == 2


def test_masked_target_is_a_miss():
    pop = Popularity([np.array([0, 1, 2, 3])], 4)
    ranks = target_ranks(pop, [[0, 1], [0, 1]], np.array([1, 3]))
    assert ranks.tolist() == [4, 1]


def test_bad_config_raises():
    with pytest.raises(CtrlrecError, match="loss"):
        tiny_config(loss="mse")
    with pytest.raises(CtrlrecError, match="hidden"):
        tiny_config(hidden=33, heads=2)


def test_evaluate_valid_split(trained_run, cyclic):
    run, _ = trained_run
    teacher = Teacher.load(run, device="cpu")
    assert evaluate(teacher, cyclic, "valid")["hr@5"] == 1.0
    hs, targets = split_histories(cyclic, "valid")
    assert (target_ranks(teacher, hs, targets) == 0).all()


def test_stride_windows_learn_every_target_once_with_long_context():
    seqs = [np.arange(1, 40), np.arange(100, 107), np.array([3])]  # no (item, next) pair twice
    max_len, stride = 8, 3
    w = make_windows(seqs, max_len=max_len, mode="stride", rng=np.random.default_rng(1), stride=stride)
    learned = []
    for row in w:
        inp, tgt = np.abs(row[:-1]), row[1:]
        for j in range(max_len):
            if inp[j] and tgt[j] > 0:
                context = int((inp[: j + 1] != 0).sum())
                learned.append((int(inp[j]), int(tgt[j]), context))
    pairs = [(a, b) for a, b, _ in learned]
    expected = [(int(s[i - 1]) + 1, int(s[i]) + 1) for s in seqs for i in range(1, len(s))]
    assert sorted(pairs) == sorted(expected)  # every target exactly once
    # a target at sequence index t is learnt with min(t, max_len - stride + 1) items or more before it
    index = {(int(s[i - 1]) + 1, int(s[i]) + 1): i for s in seqs for i in range(1, len(s))}
    for a, b, context in learned:
        assert context >= min(index[(a, b)], max_len - stride + 1)
    chunks = make_windows(seqs, max_len=max_len, mode="chunks", rng=np.random.default_rng(1))
    assert (chunks >= 0).all() and len(w) > len(chunks)  # only 'stride' marks context-only items


def test_stride_above_max_len_acts_as_max_len():
    seqs = [np.arange(1, 40), np.arange(100, 107)]
    wide = make_windows(seqs, max_len=8, mode="stride", rng=np.random.default_rng(2), stride=50)
    capped = make_windows(seqs, max_len=8, mode="stride", rng=np.random.default_rng(2), stride=8)
    np.testing.assert_array_equal(wide, capped)
    learnt = sorted(int(t) for t in wide[:, 1:][wide[:, 1:] > 0])
    assert learnt == sorted(int(x) + 1 for s in seqs for x in s[1:])  # no target skipped
