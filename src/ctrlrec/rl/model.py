"""Actor, critic and reference on one frozen backbone (paper §2.3.3).

The backbone is the SFT policy with its LoRA adapter merged in, so "all adapters disabled" IS the SFT
policy, exactly and forever: the reference never changes during RL. Two fresh LoRA adapters sit on
it, 'actor' (the policy being trained) and 'critic'; the critic's last hidden state feeds a linear
value head that is trained with it, saved and restored (reference-notes defect 1). Only LoRA weights
and the value head train: embeddings and the lm_head stay frozen, because the reference shares them
(defect 3). Log-probs, entropy and values are computed only at response positions, so the lm_head
never runs over the prompt.
"""

from __future__ import annotations

from pathlib import Path

from ctrlrec.errors import CtrlrecError

ADAPTERS = ("actor", "critic")


def load_backbone(sft: str, placement):
    """(model, tokenizer) of the SFT policy as one plain model: a LoRA run or adapter is merged in."""
    from ctrlrec.llm.models import load_any

    model, tok = load_any(sft, placement)
    if hasattr(model, "merge_and_unload"):  # a peft model: fold the SFT adapter into the weights
        model = model.merge_and_unload()
    return model, tok


class ActorCritic:
    """One backbone, adapters 'actor' and 'critic', a value head; forwards at response positions."""

    def __init__(self, backbone, lora_r: int = 4, lora_alpha: int = 2, target_modules: str = "all-linear",
                 value_head_init_std: float = 0.0, gradient_checkpointing: bool = False,
                 prompt_grad: bool = True):
        import torch
        from peft import LoraConfig, get_peft_model

        for p in backbone.parameters():
            p.requires_grad_(False)
        backbone.config.use_cache = False
        if gradient_checkpointing:  # only acts in train mode, i.e. in the update's forwards
            backbone.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        targets = target_modules if target_modules == "all-linear" else [
            m.strip() for m in target_modules.split(",") if m.strip()]

        def lora():
            # dropout 0: the rollout's log-probs and the update's must come from the same function
            return LoraConfig(r=lora_r, lora_alpha=lora_alpha, lora_dropout=0.0, target_modules=targets,
                              bias="none", task_type="CAUSAL_LM")

        try:
            self.peft = get_peft_model(backbone, lora(), adapter_name="actor")
            self.peft.add_adapter("critic", lora())
        except ValueError as exc:
            raise CtrlrecError(f"target_modules '{target_modules}': {exc}") from exc
        base = self.peft.get_base_model()
        self.decoder = base.get_decoder()
        self.lm_head = base.get_output_embeddings()
        param = next(backbone.parameters())
        self.device = param.device
        hidden = backbone.config.get_text_config().hidden_size
        self.value_head = torch.nn.Linear(hidden, 1).to(self.device, torch.float32)
        torch.nn.init.normal_(self.value_head.weight, std=value_head_init_std) if value_head_init_std \
            else torch.nn.init.zeros_(self.value_head.weight)
        torch.nn.init.zeros_(self.value_head.bias)
        # False: no gradient through the prompt's activations (rl/prefix.py)
        self.prompt_grad = prompt_grad
        self.checkpointing = gradient_checkpointing
        self.lora = {name: [p for n, p in self.peft.named_parameters() if f".{name}." in n and "lora_" in n]
                     for name in ADAPTERS}
        if not all(self.lora.values()):
            raise CtrlrecError("LoRA found no layers to adapt; expected a causal LM with linear layers")
        self.use("actor")

    @classmethod
    def from_config(cls, backbone, cfg) -> ActorCritic:
        """The adapters, value head and memory setting a PPOConfig (or subclass) names."""
        return cls(backbone, cfg.lora_r, cfg.lora_alpha, cfg.target_modules, cfg.value_head_init_std,
                   cfg.gradient_checkpointing, cfg.prompt_grad)

    # -- parameters ------------------------------------------------------------------------
    def parameter_groups(self) -> dict[str, list]:
        """The trained parameters: actor LoRA, critic LoRA, value head. Nothing else trains."""
        return {"actor": self.lora["actor"], "critic": self.lora["critic"],
                "value_head": list(self.value_head.parameters())}

    def parameters(self) -> list:
        return [p for group in self.parameter_groups().values() for p in group]

    def use(self, adapter: str) -> None:
        """Make `adapter` the active one (forwards of `self.decoder` then run with it)."""
        self.peft.set_adapter(adapter)
        # peft freezes the inactive adapter on a switch; both stay trainable (only the active one
        # takes part in a forward, so the other gets no gradient from it).
        for group in self.lora.values():
            for p in group:
                p.requires_grad_(True)

    def train(self, mode: bool = True) -> None:
        self.peft.train(mode)
        self.value_head.train(mode)

    # -- forwards --------------------------------------------------------------------------
    def hidden(self, input_ids, attention_mask, adapter: str | None):
        """Last hidden states [B, L, H] with `adapter` active, or of the reference when None."""
        if adapter is None:
            with self.peft.disable_adapter():
                return self.decoder(input_ids=input_ids, attention_mask=attention_mask,
                                    use_cache=False).last_hidden_state
        self.use(adapter)
        out = self.decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        return out.last_hidden_state

    @staticmethod
    def at_positions(h, positions):
        """h[b, positions[b, j]] for every b, j: hidden states at the response positions."""
        idx = positions.unsqueeze(-1).expand(-1, -1, h.shape[-1])
        return h.gather(1, idx)

    def response_hidden(self, batch, adapter: str | None):
        """Hidden states [B, R, H] at the response positions: each distinct prompt runs once and the
        responses on its cache (rl/prefix.py), or, for a batch without that layout, one forward
        over each row's prompt + response. A checkpointed backbone returns no KV cache while it
        trains, so gradient checkpointing takes the full-row forward."""
        import torch

        from ctrlrec.rl import prefix

        checkpointed = self.checkpointing and self.peft.training and torch.is_grad_enabled()
        if "prefix_ids" in batch and not checkpointed:
            if adapter is None:
                with self.peft.disable_adapter():
                    return prefix.hidden(self.decoder, batch, self.prompt_grad)
            self.use(adapter)
            return prefix.hidden(self.decoder, batch, self.prompt_grad)
        return self.at_positions(self.hidden(batch["input_ids"], batch["attention_mask"], adapter),
                                 batch["positions"])

    def logprobs(self, batch, adapter: str | None, temperature: float = 1.0, with_entropy: bool = False):
        """Log-probs [B, R] of the response tokens (and their entropy) under the tempered policy."""
        import torch

        from ctrlrec.rl.losses import entropy

        logits = self.lm_head(self.response_hidden(batch, adapter)).float() / temperature
        if "allowed" in batch:  # constrained rollouts: the distribution the tokens were drawn from
            logits = logits.masked_fill(~batch["allowed"], float("-inf"))
        logp = torch.log_softmax(logits, dim=-1).gather(-1, batch["response"].unsqueeze(-1)).squeeze(-1)
        return (logp, entropy(logits)) if with_entropy else logp

    def values(self, batch):
        """V(s_t) [B, R]: the critic's estimate before each response token is emitted."""
        return self.value_head(self.response_hidden(batch, "critic").float()).squeeze(-1)

    def generate(self, **kwargs):
        """Sampling with the actor adapter (peft's generate)."""
        self.use("actor")
        return self.peft.generate(**kwargs)

    # -- saving ----------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """actor/ and critic/ (peft adapter folders) and value_head.safetensors under `folder`."""
        from safetensors.torch import save_file

        self.peft.save_pretrained(folder, selected_adapters=list(ADAPTERS))
        save_file({k: v.detach().cpu().contiguous() for k, v in self.value_head.state_dict().items()},
                  str(folder / "value_head.safetensors"))

    def load(self, folder: Path) -> None:
        """Restore what `save` wrote into this model's adapters and value head."""
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        for name in ADAPTERS:
            f = folder / name / "adapter_model.safetensors"
            if not f.is_file():
                raise CtrlrecError(f"{f}: missing; expected a checkpoint written by `ctrlrec rl train`")
            result = set_peft_model_state_dict(self.peft, load_file(str(f), device=str(self.device)),
                                               adapter_name=name)
            if getattr(result, "unexpected_keys", None):
                raise CtrlrecError(f"{f}: does not fit this model ({result.unexpected_keys[:3]} ...)")
        self.value_head.load_state_dict(load_file(str(folder / "value_head.safetensors"),
                                                  device=str(self.device)))
        self.use("actor")

    def merged_policy(self):
        """The actor folded into the backbone as a plain model (ends this object's usefulness)."""
        self.use("actor")
        self.peft.delete_adapter("critic")
        return self.peft.merge_and_unload()
