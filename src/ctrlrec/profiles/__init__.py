"""RecLM profiles: LLM-written user and item profiles with collaborative signals (docs/profiles.md)."""
