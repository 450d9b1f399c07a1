"""`ctrlrec serve RUN`: the HTTP API and web page on uvicorn."""

from __future__ import annotations

import typer

from ctrlrec.serve.config import ServeConfig

_D = ServeConfig()


def serve_cmd(
    model: str = typer.Argument(_D.model, help="SFT run, adapter or model folder, or a registry name."),
    dataset: str = typer.Option(_D.dataset, help="Prepared dataset whose users and catalog are served."),
    host: str = typer.Option(_D.host, help="Interface to listen on (loopback by default)."),
    port: int = typer.Option(_D.port),
    backend: str = typer.Option(_D.backend, help="transformers, or vllm on a GPU (free mode only)."),
    device: str = typer.Option(_D.device), precision: str = typer.Option(_D.precision),
    mode: str = typer.Option(_D.default_mode, help="Default decoding mode: free, catalog or guaranteed."),
    max_batch: int = typer.Option(_D.max_batch, help="Requests decoded together."),
    max_wait_ms: float = typer.Option(_D.max_wait_ms, help="Wait for more requests after the first."),
    queue_max: int = typer.Option(_D.queue_max, help="Waiting requests before answering 503."),
    timeout_s: float = typer.Option(_D.timeout_s, help="Per-request timeout (504)."),
    sample: bool = typer.Option(_D.sample, help="Sample instead of greedy decoding."),
    threads: int = typer.Option(_D.threads, help="torch CPU threads (0: default)."),
    pool_mode: str = typer.Option(_D.pool_mode, help="auto (the model's pipeline run decides), paper, or "
                                                     "grounded (the teacher's candidates in the prompt)."),
    teacher: str = typer.Option(_D.teacher, help="Teacher run retrieving the grounded mode's candidates."),
    guidance: float = typer.Option(_D.guidance, help="Teacher-guided decoding weight (0: off)."),
    feedback_dir: str = typer.Option(_D.feedback_dir, help="Folder of the chat page's crs_feedback.jsonl "
                                                           "(default: the model's run folder)."),
) -> None:
    """Serve recommendations: POST /v1/recommend, GET /v1/items, /v1/categories, /healthz, page at /;
    chat mode at /crs (POST /crs/turn, /crs/feedback) logging feedback to crs_feedback.jsonl."""
    import uvicorn

    from ctrlrec.errors import CtrlrecError
    from ctrlrec.llm.decoding import MODES
    from ctrlrec.serve.app import create_app
    from ctrlrec.serve.engine import Recommender

    if mode not in MODES:
        raise CtrlrecError(f"mode {mode!r}: expected one of {', '.join(MODES)}")
    if min(max_batch, queue_max) < 1 or timeout_s <= 0 or max_wait_ms < 0:
        raise CtrlrecError("max_batch and queue_max: expected >= 1; timeout_s > 0; max_wait_ms >= 0")
    cfg = ServeConfig(model=model, dataset=dataset, host=host, port=port, backend=backend, device=device,
                      precision=precision, default_mode=mode, max_batch=max_batch, max_wait_ms=max_wait_ms,
                      queue_max=queue_max, timeout_s=timeout_s, sample=sample, threads=threads,
                      feedback_dir=feedback_dir, pool_mode=pool_mode, teacher=teacher, guidance=guidance)
    rec = Recommender.load(cfg)
    typer.echo(f"ctrlrec serve: {model} on {dataset}, http://{host}:{port}/ (API docs at /docs)")
    uvicorn.run(create_app(rec), host=host, port=port, log_level="info", timeout_graceful_shutdown=5)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
