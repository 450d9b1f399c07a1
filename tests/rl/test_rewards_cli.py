"""The scoring reward on tokens (and its v3 ablation), the config, and the CLI's plot and errors."""

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from ctrlrec.cli import app
from ctrlrec.errors import CtrlrecError
from ctrlrec.rl.config import PPOConfig
from ctrlrec.rl.logger import MetricsLog
from ctrlrec.rl.rewards import ScoringReward
from ctrlrec.rl.rollout import Rollout
from ctrlrec.rl.update import place_rewards
from ctrlrec.scoring import Catalog, score
from ctrlrec.scoring.intents import Intent
from tests.rl.helpers import TITLES, tiny_tokenizer


def _catalog():
    cats = [[t.split()[1][0]] for t in TITLES]  # category = first letter of the code: A..F
    frame = pd.DataFrame({"item_id": range(len(TITLES)), "title": TITLES, "categories": cats})
    return Catalog.from_frame(frame)


def test_scoring_reward_matches_scoring_and_lands_on_title_ends():
    cat, tok = _catalog(), tiny_tokenizer()
    text = f"1. {TITLES[0]}\n2. {TITLES[5]}\n3. {TITLES[0]}"
    sample = {"k": 3, "intent": {"kind": "I1-", "category": "A"}, "history": [7], "target": 5,
              "teacher": list(range(len(TITLES)))}
    judged = ScoringReward(cat)([text], [sample])
    ref = score(cat, text, 3, Intent("I1-", "A"), [7], 5, list(range(len(TITLES))))
    assert judged.spans[0] == ref.spans
    assert np.allclose(judged.item_rewards[0], ref.item_rewards)
    assert judged.list_rewards[0] == pytest.approx(ref.list_reward)
    assert judged.stats["comply/I1-"] == pytest.approx(1 - ref.metrics["TCP"])
    assert judged.stats["fmt/RepeatItem"] == pytest.approx(1 / 3)

    ids = tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    n = len(ids)
    roll = Rollout([0], [ids], [tok.decode(ids, skip_special_tokens=True)],
                   {"mask": torch.ones(1, n)}, torch.zeros(1, n), torch.zeros(1, n), torch.zeros(1, n))
    full, _ = place_rewards(tok, roll, judged, PPOConfig())
    v3, _ = place_rewards(tok, roll, judged, PPOConfig(item_reward=False))
    assert v3[0, :-1].abs().sum() == 0 and v3[0, -1] == pytest.approx(10 * ref.list_reward)
    item_part = full[0] - v3[0]
    hits = item_part.nonzero().flatten().tolist()
    assert len(hits) == 3 and item_part.sum() == pytest.approx(float(np.sum(ref.item_rewards)), abs=1e-5)
    for t in hits:  # each item reward sits on a token that ends with ")" of a title
        assert tok.decode(ids[: t + 1]).endswith(")")


def test_config_toml_and_errors(tmp_path):
    f = tmp_path / "rl.toml"
    f.write_text('[rl]\nsteps = 7\nkl_coef = 0.1\ntasks = ["I0", "I1-"]\n')
    cfg = PPOConfig.from_toml(f, steps=9)
    assert cfg.steps == 9 and cfg.kl_coef == 0.1 and cfg.tasks == ("I0", "I1-")
    assert PPOConfig().kl_coef == 0.3 and PPOConfig().list_scale == 10 and PPOConfig().lora_r == 4
    f.write_text("stepz = 3\n")
    with pytest.raises(CtrlrecError, match="unknown RL config keys"):
        PPOConfig.from_toml(f)
    with pytest.raises(CtrlrecError, match="tasks"):
        PPOConfig(tasks=("I3",)).check()


def test_cli_plot_and_user_errors(tmp_path):
    run = tmp_path / "run"
    log = MetricsLog(run, 0, tensorboard=True)
    for s in range(1, 6):
        log.log(s, {"reward/total": s * 0.5, "kl": 0.1 * s, "entropy": 1.0, "comply/I1-": 0.2 * s,
                    "format_err/all": 0.5})
    log.close()
    assert list((run / "tensorboard").iterdir())
    runner = CliRunner()
    res = runner.invoke(app, ["rl", "plot", str(run)])
    assert res.exit_code == 0, res.output
    png = run / "curves.png"
    assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"
    res = runner.invoke(app, ["rl", "plot", str(tmp_path / "nope")])
    assert isinstance(res.exception, CtrlrecError)
    res = runner.invoke(app, ["rl", "train", "--config", str(tmp_path / "missing.toml")])
    assert isinstance(res.exception, CtrlrecError)
