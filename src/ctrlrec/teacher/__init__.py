"""The teacher: a SASRec sequential recommender whose rankings label and score the LLM's work.

`Teacher.load(run_dir)` gives the batched query API (`topk`, `ranking`, `ranks`);
`train(config, out)` trains one; `ctrlrec teacher ...` wraps both.
"""

from ctrlrec.teacher.api import Teacher
from ctrlrec.teacher.config import Runtime, TeacherConfig

__all__ = ["Runtime", "Teacher", "TeacherConfig", "train"]


def __getattr__(name):  # lazy: importing the package should not pull in the training loop
    if name == "train":
        from ctrlrec.teacher.train import train

        return train
    raise AttributeError(name)
