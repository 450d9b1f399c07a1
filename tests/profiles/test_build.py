import json

import pytest

from ctrlrec.cf.config import CFConfig
from ctrlrec.cf.train import train as cf_train
from ctrlrec.errors import CtrlrecError
from ctrlrec.profiles import cache as cache_mod
from ctrlrec.profiles.build import build
from ctrlrec.profiles.config import ProfilesConfig
from tests.cf.synth import tiny_dataset
from tests.profiles.helpers import tiny_chat


def _cfg(**kw):
    values = dict(dataset="tiny", split="random", seed=3, m=2, batch_size=8, max_new_tokens=6, item_users=2,
                  threads=1)
    return ProfilesConfig(**{**values, **kw})


def test_profiles_are_cached_and_a_second_build_reuses_them(tmp_path, fake_text, monkeypatch):
    tiny_dataset()
    model, tok = tiny_chat()
    info = build(_cfg(), tmp_path / "p", progress=False, loaded=(model, tok, "tiny-v1"))
    assert info["users"] == 24 and info["generated_users"] == 24 and info["profiles_per_s"] > 0
    assert info["items"] > 0 and info["neighbour_sources"] == {"text": 24}
    first = (tmp_path / "p" / "users.jsonl").read_text()
    rows = [json.loads(x) for x in first.splitlines()]
    assert all(r["profile"].startswith("User identity: ") and len(r["neighbours"]) == 2 for r in rows)

    def boom(*a, **k):
        raise AssertionError("generated again instead of reading the cache")

    monkeypatch.setattr("ctrlrec.llm.generate.generate", boom)
    again = build(_cfg(), tmp_path / "p", progress=False, loaded=(model, tok, "tiny-v1"))
    assert again["generated_users"] == 0 and again["profiles_per_s"] is None
    assert (tmp_path / "p" / "users.jsonl").read_text() == first
    with pytest.raises(AssertionError):  # another model fingerprint is not served from the cache
        build(_cfg(), tmp_path / "p", progress=False, loaded=(model, tok, "tiny-v2"))


def test_torn_cache_line_is_skipped_and_later_appends_survive(tmp_path):
    c = cache_mod.GenerationCache(tmp_path / "c.jsonl")
    c.add([("a", "x")])
    with (tmp_path / "c.jsonl").open("a") as fh:
        fh.write('{"key": "b", "te')  # killed mid-write
    c2 = cache_mod.GenerationCache(tmp_path / "c.jsonl")
    assert "a" in c2 and "b" not in c2
    c2.add([("c", "z")])
    assert cache_mod.GenerationCache(tmp_path / "c.jsonl").rows == {"a": "x", "c": "z"}


def test_profiles_plug_into_cf_and_a_foreign_split_is_refused(tmp_path, fake_text):
    tiny_dataset()
    model, tok = tiny_chat()
    build(_cfg(), tmp_path / "p", progress=False, loaded=(model, tok, "tiny"))
    base = dict(dataset="tiny", model="lightgcn", dim=8, epochs=2, threads=1, device="cpu")
    res = cf_train(CFConfig(**base, side="profiles", profiles=str(tmp_path / "p"), seed=3), tmp_path / "cf",
                   progress=False)
    assert res["test"]["users"] > 0
    with pytest.raises(CtrlrecError, match="split"):  # profiles of another seed saw held-out pairs
        cf_train(CFConfig(**base, side="profiles", profiles=str(tmp_path / "p"), seed=4), tmp_path / "cf2",
                 progress=False)
    with pytest.raises(CtrlrecError, match="--profiles"):
        cf_train(CFConfig(**base, side="profiles", seed=3), tmp_path / "cf3", progress=False)
    # another training seed over the build's split is the same split: accepted
    res4 = cf_train(CFConfig(**base, side="profiles", profiles=str(tmp_path / "p"), seed=4, split_seed=3),
                    tmp_path / "cf4", progress=False)
    assert res4["test"]["users"] == res["test"]["users"]


def test_lightgcn_neighbours_need_the_same_split(tmp_path, fake_text):
    tiny_dataset()
    cf_train(CFConfig(dataset="tiny", model="lightgcn", dim=8, epochs=1, threads=1, device="cpu", seed=3),
             tmp_path / "lgcn", progress=False)
    model, tok = tiny_chat()
    info = build(_cfg(cf_run=str(tmp_path / "lgcn"), item_profiles=False), tmp_path / "p", progress=False,
                 loaded=(model, tok, "tiny"))
    assert info["neighbour_sources"] == {"cf": 24}
    with pytest.raises(CtrlrecError, match="LightGCN|split"):
        build(_cfg(cf_run=str(tmp_path / "lgcn"), split="cold-item"), tmp_path / "q", progress=False,
              loaded=(model, tok, "tiny"))


def test_cf_compare_with_labelled_profile_runs_per_split(tmp_path, fake_text):
    from typer.testing import CliRunner

    from ctrlrec.cli import app

    tiny_dataset()
    model, tok = tiny_chat()
    build(_cfg(), tmp_path / "p-random", progress=False, loaded=(model, tok, "tiny"))
    r = CliRunner().invoke(app, ["cf", "compare", "--dataset", "tiny", "--models", "biasmf", "--epochs", "1",
                                 "--seed", "3", "--threads", "1", "--side", "none,profiles-two",
                                 "--profiles", f"two={tmp_path}/p-{{split}}", "--out", str(tmp_path / "cmp")])
    assert r.exit_code == 0, r.output
    assert "R@20 profiles-two" in (tmp_path / "cmp" / "table.md").read_text()
    assert (tmp_path / "cmp" / "random-biasmf-profiles-two" / "metrics.json").is_file()
    r = CliRunner().invoke(app, ["cf", "compare", "--dataset", "tiny", "--side", "profiles-one",
                                 "--profiles", f"two={tmp_path}/p-{{split}}"])
    assert r.exit_code != 0 and "profiles-one" in str(r.exception)


def test_bad_inputs_are_one_clear_error(tmp_path, fake_text):
    from typer.testing import CliRunner

    from ctrlrec.cli import app

    tiny_dataset()
    runner = CliRunner()
    r = runner.invoke(app, ["profiles", "build", "--dataset", "tiny", "--cf-run", str(tmp_path / "nope")])
    assert r.exit_code != 0 and isinstance(r.exception, CtrlrecError) and "nope" in str(r.exception)
    r = runner.invoke(app, ["profiles", "build", "--dataset", "tiny", "--m", "0"])
    assert isinstance(r.exception, CtrlrecError) and "m = 0" in str(r.exception)
    r = runner.invoke(app, ["profiles", "train", "--dataset", "tiny", "--stages", "three-round"])
    assert isinstance(r.exception, CtrlrecError) and "three-round" in str(r.exception)


def test_fingerprint_follows_the_model_files_not_the_run_records(tmp_path):
    # a resumed or re-measured run rewrites its manifest; its cached answers must stay valid
    run = tmp_path / "run"
    (run / "merged").mkdir(parents=True)
    (run / "merged" / "model.safetensors").write_bytes(b"weights-1")
    (run / "merged" / "config.json").write_text('{"hidden_size": 8}')
    (run / "merged" / "chat_template.jinja").write_text("{{ messages }}")
    (run / "manifest.json").write_text('{"created": "monday"}')
    first = cache_mod.fingerprint_of(run)
    (run / "manifest.json").write_text('{"created": "tuesday", "reward_accuracy": {}}')
    (run / "profiles.json").write_text('{"prompt": "single"}')
    (run / "reward").mkdir()
    (run / "reward" / "accuracy.json").write_text("{}")
    (run / "checkpoints" / "step-000010").mkdir(parents=True)
    (run / "checkpoints" / "step-000010" / "model.safetensors").write_bytes(b"other")
    assert cache_mod.fingerprint_of(run) == first
    (run / "merged" / "chat_template.jinja").write_text("{{ other }}")
    second = cache_mod.fingerprint_of(run)
    assert second != first
    (run / "merged" / "model.safetensors").write_bytes(b"weights-2")
    assert cache_mod.fingerprint_of(run) not in (first, second)
