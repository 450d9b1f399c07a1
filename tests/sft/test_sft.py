import json

import pytest

from ctrlrec.errors import CtrlrecError
from ctrlrec.llm.chat import IGNORE
from ctrlrec.llm.device import Placement
from ctrlrec.llm.generate import GenerationConfig, generate
from ctrlrec.llm.models import load_any
from ctrlrec.sft.config import SFTConfig
from ctrlrec.sft.data import Collator, TokenisedSamples
from ctrlrec.sft.evaluator import make_evaluator
from ctrlrec.sft.merge import merge
from ctrlrec.sft.trainer import build_trainer, train
from tests.llm.tiny import TITLES, tiny_model_dir, tiny_tokenizer, toy_samples

N = 4  # toy samples to memorise


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("sft")
    samples = toy_samples(N)
    cfg = dict(
        model=str(tiny_model_dir(d)),
        train_file=_write(d / "train.jsonl", samples),
        valid_file=_write(d / "valid.jsonl", [{**s, "messages": s["messages"][:2]} for s in samples]),
        output_dir=str(d / "run"),
        lora_r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        learning_rate=3e-2,
        warmup_steps=0.0,
        batch_size=N,
        grad_accum=1,
        eval_every=40,
        eval_cases=N,
        eval_batch_size=N,
        eval_max_new_tokens=30,
        save_every=40,
        logging_steps=10,
        precision="fp32",
        device="cpu",
    )
    return d, samples, cfg


def _catalog():
    import pandas as pd

    return pd.DataFrame({"item_id": range(len(TITLES)), "title": TITLES,
                         "categories": [["Film"]] * len(TITLES)})


@pytest.fixture(scope="module")
def trained(setup):
    d, samples, cfg = setup
    run = train(SFTConfig(**cfg, max_steps=80), make_evaluator(_catalog()), progress=False)
    return run


def test_collated_batch_has_loss_on_answers_only_and_none_on_padding():
    tok = tiny_tokenizer()
    ds = TokenisedSamples(
        tok, toy_samples(3) + [{"messages": toy_samples(1)[0]["messages"][:2]}], 256, progress=False
    )
    assert len(ds) == 3 and ds.dropped == 1  # a sample without an answer is not trained on
    batch = Collator(tok.pad_token_id)([ds[0], ds[1], ds[2]])
    pad = batch["attention_mask"] == 0
    assert (batch["labels"][pad] == IGNORE).all()
    for row in range(3):
        kept = batch["labels"][row][batch["labels"][row] != IGNORE].tolist()
        assert tok.decode(kept) == toy_samples(3)[row]["messages"][2]["content"] + "<|im_end|>"


def test_padding_free_batch_gives_the_same_loss_as_a_padded_one():
    import torch

    from tests.llm.tiny import tiny_model

    tok = tiny_tokenizer()
    model = tiny_model(tok).eval()
    model.config.use_cache = False  # as in training: packed rows are only detected without a KV cache
    rows = [r for r in TokenisedSamples(tok, toy_samples(3), 256, progress=False)]
    rows[1] = {k: v[:-7] for k, v in rows[1].items()}  # unequal lengths, so the padded batch has padding
    padded, packed = Collator(tok.pad_token_id)(rows), Collator(tok.pad_token_id, padfree=True)(rows)
    assert packed["input_ids"].shape[0] == 1 and packed["input_ids"].shape[1] == sum(
        len(r["input_ids"]) for r in rows
    )
    with torch.no_grad():
        a = model(**padded).loss
        b = model(**packed).loss
    assert torch.allclose(a, b, atol=1e-5)  # attention stays within each sample


def test_config_from_toml_overrides_and_rejects_unknown_keys(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[sft]\ndataset = "ml-100k"\nlora_r = 4\n')
    cfg = SFTConfig.from_toml(f, lora_r=None, learning_rate=5e-4)
    assert (cfg.lora_r, cfg.lora_alpha, cfg.learning_rate) == (4, 8, 5e-4)
    f.write_text('lora_rank = 4\ndataset = "x"\n')
    with pytest.raises(CtrlrecError, match="lora_rank"):
        SFTConfig.from_toml(f)
    with pytest.raises(CtrlrecError, match="batching"):
        SFTConfig.from_toml(None, dataset="x", batching="zigzag")


def test_trainer_uses_lora_on_all_linear_layers_and_length_grouping(setup):
    _, _, cfg = setup
    trainer = build_trainer(SFTConfig(**{**cfg, "output_dir": cfg["output_dir"] + "-probe"}), progress=False)
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert {n.split(".")[-4] for n in trainable if "lora_A" in n} >= {
        "q_proj",
        "v_proj",
        "up_proj",
        "down_proj",
    }
    assert type(trainer._get_train_sampler()).__name__ == "LengthGroupedSampler"


def test_training_drives_loss_down_and_greedy_decoding_reproduces_the_labels(setup, trained):
    _, samples, _ = setup
    logs = [json.loads(x) for x in (trained / "log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in logs if "loss" in r]
    assert losses[-1] < 0.25 * losses[0]
    model, tok = load_any(str(trained / "adapter"), Placement("cpu", "fp32"))
    out = generate(model, tok, samples, GenerationConfig(max_new_tokens=40), progress=False)
    for text, s in zip(out, samples, strict=True):
        assert text.startswith(s["messages"][2]["content"])
    best = json.loads((trained / "best" / "metrics.json").read_text())
    assert best["metrics"]["HR"] == 1.0  # the memorised target is ranked first


def test_resume_continues_from_the_last_checkpoint_and_merge_round_trips(setup, trained):
    _, samples, cfg = setup
    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["steps"] == 80 and manifest["config"]["lora_r"] == 8 and "torch" in manifest["versions"]
    run = train(SFTConfig(**cfg, max_steps=90), make_evaluator(_catalog()), progress=False)
    resumed = json.loads((run / "manifest.json").read_text())
    assert resumed["resumed_from"].endswith("checkpoint-80") and resumed["steps"] == 90
    merged_dir = merge(run, which="adapter")
    cfg_gen = GenerationConfig(max_new_tokens=30)
    m1, tok = load_any(str(run / "adapter"), Placement("cpu", "fp32"))
    m2, _ = load_any(str(merged_dir), Placement("cpu", "fp32"))
    assert not any("lora_" in n for n, _ in m2.named_parameters())
    assert generate(m1, tok, samples, cfg_gen, progress=False) == generate(
        m2, tok, samples, cfg_gen, progress=False
    )


def test_resume_refuses_a_checkpoint_trained_on_other_samples(setup, trained):
    d, samples, cfg = setup
    before = sorted(p.name for p in (trained / "checkpoints").iterdir())
    other = _write(d / "other.jsonl", samples[::-1][:-1])  # other samples, same output_dir
    with pytest.raises(CtrlrecError, match="checkpoint-.*other samples"):
        train(SFTConfig(**{**cfg, "train_file": other}, max_steps=100), None, progress=False)
    with pytest.raises(CtrlrecError, match="lora_r"):
        train(SFTConfig(**{**cfg, "lora_r": 4}, max_steps=100), None, progress=False)
    assert sorted(p.name for p in (trained / "checkpoints").iterdir()) == before  # nothing lost
    assert json.loads((trained / "manifest.json").read_text())["status"] == "done"


def test_resume_skips_a_checkpoint_cut_by_a_kill(tmp_path):
    from ctrlrec.sft.callbacks import COMPLETE, last_complete_checkpoint

    assert last_complete_checkpoint(tmp_path / "none") is None
    for step in (2, 4, 6):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "adapter_model.safetensors").write_text("x")
    assert last_complete_checkpoint(tmp_path) is None  # no marker and no trainer_state.json
    (tmp_path / "checkpoint-4" / "trainer_state.json").write_text("{}")
    assert last_complete_checkpoint(tmp_path).endswith("checkpoint-4")  # a run from before the marker
    (tmp_path / "checkpoint-2" / COMPLETE).write_text("2")
    assert last_complete_checkpoint(tmp_path).endswith("checkpoint-2")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint-2", "incomplete-checkpoint-4", "incomplete-checkpoint-6"]
    assert (tmp_path / "incomplete-checkpoint-6" / "adapter_model.safetensors").is_file()  # kept


def test_validation_ties_keep_the_later_adapter(tmp_path):
    """All-zero validation scores (a small model early on) must not pin `best` to the first adapter."""
    from types import SimpleNamespace

    from ctrlrec.sft.callbacks import Validation
    from tests.llm.tiny import tiny_model

    tok = tiny_tokenizer()
    model = tiny_model(tok)
    cases = [{**s, "messages": s["messages"][:2]} for s in toy_samples(2)]
    scores = iter([0.0, 0.0, 0.5, 0.2])
    val = Validation(tok, cases, lambda gens, cs: {"NDCG": next(scores)}, tmp_path, 1, "NDCG",
                     GenerationConfig(max_new_tokens=4, batch_size=2))
    steps = []
    for step in (1, 2, 3, 4):
        state = SimpleNamespace(global_step=step, epoch=0.0, is_world_process_zero=True, log_history=[])
        val._run(None, state, model)
        steps.append(val.best["step"])
    assert steps == [1, 2, 3, 3]  # a tie moves to the later step; a lower score does not
    assert json.loads((tmp_path / "best" / "metrics.json").read_text())["step"] == 3


def test_full_fine_tuning_trains_every_weight_and_the_run_loads_as_a_whole_model(setup, tmp_path):
    _, samples, cfg = setup
    cfg = {**cfg, "output_dir": str(tmp_path / "full"), "finetune": "full", "learning_rate": 1e-2,
           "eval_every": 60, "save_every": 60}
    trainer = build_trainer(SFTConfig(**cfg, max_steps=60), progress=False)
    names = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert names and not any("lora_" in n for n in names)
    assert len(names) == len(list(trainer.model.parameters()))  # every weight, no adapter
    run = train(SFTConfig(**cfg, max_steps=60), make_evaluator(_catalog()), progress=False)
    assert (run / "model" / "config.json").is_file() and not (run / "adapter").exists()
    assert (run / "best" / "config.json").is_file()  # the best validation step, a whole model too
    model, tok = load_any(str(run), Placement("cpu", "fp32"))
    assert not hasattr(model, "peft_config")
    out = generate(model, tok, samples, GenerationConfig(max_new_tokens=40), progress=False)
    assert sum(t.startswith(s["messages"][2]["content"]) for t, s in zip(out, samples, strict=True)) >= N - 1
