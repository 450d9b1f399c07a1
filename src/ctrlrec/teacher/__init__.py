"""The teacher: a SASRec sequential recommender whose rankings label and score the LLM's work.

`Teacher.load(run_dir)` gives the batched query API (`topk`, `ranking`, `ranks`);
`ctrlrec.teacher.train.train(config, out)` trains one; `ctrlrec teacher ...` wraps both.
"""

__all__ = ["Runtime", "Teacher", "TeacherConfig"]

# lazy: importing the package (as `ctrlrec teacher --help` does) should not pull in torch
_WHERE = {"Teacher": "ctrlrec.teacher.api", "Runtime": "ctrlrec.teacher.config",
          "TeacherConfig": "ctrlrec.teacher.config"}


def __getattr__(name):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'ctrlrec.teacher' has no attribute {name!r}")
