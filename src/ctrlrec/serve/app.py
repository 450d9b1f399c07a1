"""The FastAPI application: JSON API under /v1, the web page at /, OpenAPI docs at /docs.

Status codes: 400 malformed JSON; 422 a well-formed request with a bad value (types, k, category,
caps); 404 an unknown user; 503 + Retry-After when the waiting line is full; 504 when a request
outlives its timeout. Every error body is {"detail": "<one sentence>"} (validation errors add
"errors" with the field paths). The page is static files: it renders answers with textContent
only, never as HTML, and a Content-Security-Policy forbids inline scripts. The chat mode
(`ctrlrec.serve.crs_routes`, page /crs) logs people's implicit feedback to the run directory.
"""

from __future__ import annotations

import re
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from ctrlrec import __version__
from ctrlrec.crs.chat import ChatSessions, UnknownSession
from ctrlrec.errors import CtrlrecError
from ctrlrec.serve.batcher import MicroBatcher, Overloaded, TimedOut
from ctrlrec.serve.config import feedback_dir
from ctrlrec.serve.crs_routes import refusal
from ctrlrec.serve.crs_routes import router as crs_router
from ctrlrec.serve.engine import NotFound, Recommender
from ctrlrec.serve.schemas import Health, Item, RecommendRequest, RecommendResponse, UserResponse

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def _error(status: int, detail: str, **extra) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


_TYPE_TAGS = frozenset({"body", "int", "str", "float", "bool", "list", "dict", "none"})


def _is_field(part) -> bool:
    """Field names and list positions of an error location, without pydantic's union member tags."""
    return isinstance(part, int) or (re.fullmatch(r"[a-z_][a-z0-9_]*", part) is not None
                                     and part not in _TYPE_TAGS)


def _validation(exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return _error(400, "the request body is not valid JSON")
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if _is_field(p)) or "body"
    clean = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
             for e in errors[:20]]
    return _error(422, f"{where}: {first.get('msg', 'invalid value')}", errors=clean)


def create_app(rec: Recommender) -> FastAPI:
    cfg = rec.cfg
    batcher = MicroBatcher(rec.run, cfg.max_batch, cfg.max_wait_ms, cfg.queue_max)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        await batcher.stop()
        if getattr(app.state, "crs_batcher", None) is not None:
            await app.state.crs_batcher.stop()

    app = FastAPI(title="ctrlrec", version=__version__, lifespan=lifespan,
                  description="Controllable recommendations from an aligned language model.")
    app.state.rec, app.state.batcher = rec, batcher

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError):
        return _validation(exc)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound):
        return _error(404, str(exc))

    @app.exception_handler(UnknownSession)
    async def _no_session(request: Request, exc: UnknownSession):
        return _error(404, str(exc))

    @app.exception_handler(CtrlrecError)
    async def _user_error(request: Request, exc: CtrlrecError):
        return _error(422, str(exc))

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if not request.url.path.startswith(("/docs", "/redoc")):
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    @app.post("/v1/recommend", response_model=RecommendResponse, tags=["recommend"],
              responses={400: {}, 404: {}, 422: {}, 503: {}, 504: {}})
    async def recommend(req: RecommendRequest):
        """A list of k items for a user or a history, under an intent, in one decoding mode."""
        t0 = time.perf_counter()
        intent = req.intent
        if isinstance(intent, list):
            intent = [p.model_dump() for p in intent]
        elif intent is not None:
            intent = intent.model_dump()
        job = rec.prepare(req.user_id, req.history, intent, req.text, req.k, req.mode)
        try:
            out = await batcher.submit(job, cfg.timeout_s)
        except (Overloaded, TimedOut) as exc:
            return refusal(exc)
        return {**out, "latency_ms": round(1000 * (time.perf_counter() - t0), 1)}

    @app.get("/v1/items", response_model=list[Item], tags=["catalog"])
    def items(q: str = Query("", max_length=200, description="part of a title"),
              limit: int = Query(10, ge=1, le=50)):
        """Catalog titles containing q (case-insensitive), those starting with it first."""
        return rec.search(q, limit)

    @app.get("/v1/categories", response_model=list[str], tags=["catalog"])
    def categories():
        """The dataset's categories, most frequent first."""
        return rec.categories

    @app.get("/v1/users/{user_id}", response_model=UserResponse, tags=["catalog"])
    def user(user_id: int, limit: int = Query(10, ge=1, le=200)):
        """A user's most recent history items, oldest first."""
        hist = rec.user_history(user_id)
        return {"user_id": user_id, "n_history": len(hist), "history": [rec.item(i) for i in hist[-limit:]]}

    @app.get("/healthz", response_model=Health, tags=["service"])
    def healthz():
        return {"status": "ok", "model": cfg.model, "dataset": rec.ds.name, "users": rec.ds.n_users,
                "items": len(rec.catalog), "k_max": cfg.k_max, "default_mode": cfg.default_mode,
                "queued": batcher.queue.qsize(), "batches": batcher.batches, "served": batcher.served}

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    chat = crs_router(ChatSessions(rec, feedback_dir(cfg), cfg.chat_k, text_max=cfg.text_max),
                      queue_max=cfg.queue_max, timeout_s=cfg.timeout_s)
    app.state.crs_batcher = chat.crs_batcher
    app.include_router(chat)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
