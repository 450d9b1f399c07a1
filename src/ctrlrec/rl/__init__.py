"""The RL stage (paper §2.3): PPO with item-level and list-level rewards placed on the sampled tokens.

    from ctrlrec.rl.config import PPOConfig
    from ctrlrec.rl.trainer import train
    train(PPOConfig(sft="runs/sft-ml-100k", dataset="ml-100k", steps=50))

Pieces, each tested on its own: placement (title spans -> tokens, per-token rewards), gae, losses,
model (actor/critic LoRA + value head on the frozen SFT backbone), rollout, update (PPO epochs),
rewards (scoring-based, or any rule), checkpoint, logger, plot.
"""
