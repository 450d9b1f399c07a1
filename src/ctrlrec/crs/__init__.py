"""Conversational recommendation aligned with implicit user feedback (seed 002, docs/crs.md).

dialogue (format + JSONL), redial (ReDial loader), simulator (seeded user simulator), synth
(synthetic dialogues and SFT samples), labels (weak engagement labels), reward_model (pairwise RM),
episodes (multi-turn PPO), evaluate (accuracy, coherence, satisfaction), chat (people in the loop).
"""
