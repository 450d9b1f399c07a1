"""Instruction data (paper §2.2): samples I0–I4 with teacher labels, and the fixed test sets."""

from ctrlrec.tasks.config import TaskConfig, TestsetConfig

__all__ = ["TaskConfig", "TestsetConfig"]
