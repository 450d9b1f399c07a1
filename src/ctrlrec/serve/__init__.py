"""The recommendation service: an HTTP API and a web page over constrained, control-aware decoding.

    rec = Recommender.load(ServeConfig(model="runs/sft-ml1m", dataset="ml-1m"))
    app = create_app(rec)   # FastAPI; `ctrlrec serve RUN` runs it on uvicorn
"""

from ctrlrec.serve.config import ServeConfig

__all__ = ["ServeConfig"]
