"""The dataset layer: real interaction data with titles and categories in one canonical form.

`load(name)` returns a prepared `Dataset`; `prepare(name, ...)` builds one from a source's raw files.
"""

from ctrlrec.data.dataset import Dataset, LeaveOneOut
from ctrlrec.data.store import load, load_catalog

__all__ = ["Dataset", "LeaveOneOut", "load", "load_catalog"]
