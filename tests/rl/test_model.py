"""Actor/critic/reference on one backbone: what trains, what never changes, save and resume."""

import copy

import torch

from ctrlrec.llm.device import Placement
from ctrlrec.rl.config import PPOConfig
from ctrlrec.rl.model import ActorCritic, load_backbone
from ctrlrec.rl.rewards import LineRule
from ctrlrec.rl.rollout import pack
from ctrlrec.rl.trainer import PPOTrainer
from tests.llm.tiny import tiny_model_dir
from tests.rl.helpers import prompts


def _cfg(**kw):
    base = dict(steps=2, prompts_per_step=2, max_new_tokens=24, mini_batch_size=2, learning_rate=1e-2,
                save_every=2, tensorboard=False, target_kl=0.0)
    base.update(kw)
    return PPOConfig(**base)


def _batch(tok, device="cpu"):
    p = [tok("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")["input_ids"]] * 2
    r = [tok("1. Movie AB (1980)\n2. Movie CD (1983)")["input_ids"], tok("1. Movie EA (1984)")["input_ids"]]
    return pack(p, r, tok.pad_token_id, device)


def test_only_adapters_and_value_head_train(formatted):
    model, tok = formatted
    ac = ActorCritic(model)
    trained = {id(p) for p in ac.parameters()}
    names = [n for n, p in ac.peft.named_parameters() if id(p) in trained]
    assert names and all("lora_" in n for n in names)
    assert {n.split(".")[-2] for n in names} == {"actor", "critic"}
    assert not any(p.requires_grad for n, p in ac.peft.named_parameters() if "lora_" not in n)
    assert all(p.requires_grad for p in ac.value_head.parameters())


def test_reference_is_the_sft_policy_with_its_adapter_merged(tmp_path):
    from peft import LoraConfig, get_peft_model

    from ctrlrec.llm.models import load

    base_dir = tiny_model_dir(tmp_path)
    base, tok = load(str(base_dir), Placement("cpu", "fp32"))
    lora = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
    sft = get_peft_model(base, lora)
    sft.save_pretrained(tmp_path / "sft-run" / "adapter")
    b = _batch(tok)
    with torch.no_grad():
        want = torch.log_softmax(sft(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits, -1)
        want = want.gather(1, b["positions"].unsqueeze(-1).expand(-1, -1, want.shape[-1]))
        want = want.gather(-1, b["response"].unsqueeze(-1)).squeeze(-1) * b["mask"]
    backbone, _ = load_backbone(str(tmp_path / "sft-run"), Placement("cpu", "fp32"))
    ac = ActorCritic(backbone)
    with torch.no_grad():
        ref = ac.logprobs(b, None) * b["mask"]
        actor = ac.logprobs(b, "actor") * b["mask"]  # LoRA B starts at 0: the actor starts as the SFT policy
    assert torch.allclose(ref, want, atol=1e-5) and torch.allclose(actor, want, atol=1e-5)


def test_value_head_trains_survives_resume_and_reference_stays(formatted, tmp_path):
    model, tok = formatted
    backbone_copy = copy.deepcopy(model)
    frozen = {n: p.detach().clone() for n, p in model.named_parameters()}
    ac = ActorCritic(model)
    b = _batch(tok)
    with torch.no_grad():
        ref_before = ac.logprobs(b, None)
    head0 = {k: v.clone() for k, v in ac.value_head.state_dict().items()}
    actor0 = [p.detach().clone() for p in ac.lora["actor"]]
    cfg = _cfg()
    tr = PPOTrainer(cfg, ac, tok, prompts(4), LineRule("Movie A"), tmp_path / "run", progress=False)
    tr.train()
    assert tr.step == 2 and (tmp_path / "run" / "checkpoints" / "step-000002").is_dir()
    # the value head and both adapters moved
    assert not torch.equal(ac.value_head.weight, head0["weight"])
    assert any(not torch.equal(a, p) for a, p in zip(actor0, ac.lora["actor"], strict=True))
    # the reference (backbone with adapters off) did not
    base = dict(ac.peft.get_base_model().named_parameters())
    for n, p in frozen.items():
        key = n if n in base else n.replace(".weight", ".base_layer.weight")
        assert torch.equal(base[key], p), n
    with torch.no_grad():
        assert torch.equal(ac.logprobs(b, None), ref_before)

    # resume into a fresh model: same adapters, value head, optimizer state; the next step matches
    ac2 = ActorCritic(backbone_copy)
    tr2 = PPOTrainer(cfg, ac2, tok, prompts(4), LineRule("Movie A"), tmp_path / "run", progress=False)
    assert tr2.resume() == 2
    assert torch.equal(ac2.value_head.weight, ac.value_head.weight)
    assert all(torch.equal(a, c) for a, c in zip(ac.parameters(), ac2.parameters(), strict=True))
    s1, s2 = tr.optimizer.state_dict()["state"], tr2.optimizer.state_dict()["state"]
    assert s1.keys() == s2.keys() and all(torch.equal(s1[k]["exp_avg"], s2[k]["exp_avg"]) for k in s1)
    m1, m2 = tr.run_step(), tr2.run_step()
    assert m1["reward/total"] == m2["reward/total"] and m1["loss/value"] == m2["loss/value"]
    assert torch.equal(ac2.value_head.weight, ac.value_head.weight)


def test_update_log_probs_before_any_step_equal_the_rollouts(formatted):
    # PPO's ratio and approx-KL compare the update's log-probs with the rollout's; before the first
    # optimizer step they must be the same function of the same tokens, whatever rows share a
    # mini-batch and whatever their padding (prompts of different lengths, responses cut at a stop)
    from ctrlrec.rl.losses import approx_kl
    from ctrlrec.rl.rollout import collect

    model, tok = formatted
    cfg = _cfg(prompts_per_step=4, responses_per_prompt=2, rollout_batch_size=8, max_new_tokens=16)
    policy = ActorCritic(model, cfg.lora_r, cfg.lora_alpha)
    torch.nn.init.normal_(policy.lora["actor"][1], std=0.05)  # a non-trivial actor (B is zero at init)
    ps = prompts(4)
    ps[1] = {**ps[1], "messages": [{"role": "user", "content": "a much longer question " * 6}]}
    roll = collect(policy, tok, ps, cfg, seed=5)
    lengths = roll.tensors["attention_mask"].sum(1)
    assert len(set(lengths.tolist())) > 1  # rows really are padded differently
    assert not torch.allclose(roll.logp, roll.ref_logp)
    policy.train(True)
    for idx in (torch.tensor([0, 3, 5]), torch.tensor([2, 7]), torch.arange(len(roll))):
        logp = policy.logprobs(roll.rows(idx), "actor", cfg.temperature)
        mask = roll.tensors["mask"][idx]
        assert torch.allclose(logp * mask, roll.logp[idx], atol=1e-5)
        assert abs(approx_kl(logp.detach(), roll.logp[idx], mask).item()) < 1e-8


def test_gradient_checkpointing_gives_the_same_update_and_is_used_in_training(formatted):
    # checkpointing trades memory for recomputation; the loss and its gradients must not change,
    # and the backbone must really be set to checkpoint (transformers applies it in train mode only)
    model, tok = formatted
    grads = {}
    for ckpt in (False, True):
        m = copy.deepcopy(model)
        ac = ActorCritic(m, gradient_checkpointing=ckpt)
        torch.manual_seed(0)
        for p in ac.lora["actor"] + ac.lora["critic"]:
            torch.nn.init.normal_(p, std=0.05)
        torch.nn.init.normal_(ac.value_head.weight, std=0.05)
        ac.train(True)
        assert m.is_gradient_checkpointing == ckpt
        assert ac.decoder.gradient_checkpointing == ckpt
        b = _batch(tok)
        # one backward per forward, as in ppo_update: a checkpointed backward recomputes the forward
        # with whichever adapter is active then, so a graph must not outlive an adapter switch
        # (padded positions are masked: the two routes put different filler there)
        actor = (ac.logprobs(b, "actor") * b["mask"]).sum()
        actor.backward()
        critic = (ac.values(b) * b["mask"]).sum()
        critic.backward()
        loss = actor + critic
        grads[ckpt] = (loss.detach(), [p.grad.clone() for p in ac.parameters()])
    (l0, g0), (l1, g1) = grads[False], grads[True]
    assert torch.allclose(l0, l1, atol=1e-5)
    assert len(g0) == len(g1) and all(torch.allclose(a, b, atol=1e-5) for a, b in zip(g0, g1, strict=True))
    assert any(a.abs().sum() > 0 for a in g1)
