"""ctrlrec: align large language models into controllable recommenders."""

__version__ = "0.1.0"
