"""The chat mode's HTTP endpoints (`ctrlrec.crs.chat`): POST /crs/turn, POST /crs/feedback, page /crs.

A turn decodes, so it waits in a bounded line of its own (`MicroBatcher`, one turn at a time, on its
own thread) under the service's queue and timeout: a burst gets answers and fast 503s, and the event
loop stays free for health probes and the other routes.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ctrlrec.serve.batcher import MicroBatcher, Overloaded, TimedOut
from ctrlrec.serve.schemas import Id, Item

STATIC = Path(__file__).parent / "static"


class TurnRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session: StrictStr | None = Field(None, max_length=64, description="null starts a new chat")
    text: StrictStr = Field(..., description="what the person wrote")


class TurnResponse(BaseModel):
    session: str
    turn: int = Field(description="index of the recommender turn, for its feedback")
    text: str
    items: list[Item]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session: StrictStr = Field(..., max_length=64)
    turn: StrictInt
    accepted: list[Id] = Field(default_factory=list, max_length=100)
    rejected: list[Id] = Field(default_factory=list, max_length=100)
    dwell: float = Field(..., ge=0, le=86400,
                         description="seconds between showing the items and the feedback")
    went_on: StrictBool = Field(..., description="the person wrote again (true) or left (false)")
    sentiment: float | None = Field(None, ge=-1, le=1, description="default: (accepted - rejected) / both")


class FeedbackResponse(BaseModel):
    logged: int
    file: str


def refusal(exc: Overloaded | TimedOut) -> JSONResponse:
    """The answer to a request the bounded line refused (503 + Retry-After) or timed out (504)."""
    if isinstance(exc, Overloaded):
        return JSONResponse({"detail": str(exc), "retry_after": exc.retry_after}, status_code=503,
                            headers={"Retry-After": str(exc.retry_after)})
    return JSONResponse({"detail": str(exc)}, status_code=504)


def _run_thunks(thunks):
    return [t() for t in thunks]


def router(sessions, queue_max: int = 64, timeout_s: float = 60.0) -> APIRouter:
    r = APIRouter()
    line = MicroBatcher(_run_thunks, max_batch=1, max_wait_ms=0, queue_max=queue_max)
    r.crs_batcher = line  # for /healthz and the app's shutdown

    @r.post("/crs/turn", response_model=TurnResponse, tags=["chat"],
            responses={404: {}, 422: {}, 503: {}, 504: {}})
    async def turn(req: TurnRequest):
        """The person's message in, the recommender's items out (a session is started when none is given)."""
        try:
            return await line.submit(lambda: sessions.turn(req.session, req.text), timeout_s)
        except (Overloaded, TimedOut) as exc:
            return refusal(exc)

    @r.post("/crs/feedback", response_model=FeedbackResponse, tags=["chat"], responses={404: {}, 422: {}})
    def feedback(req: FeedbackRequest):
        """Accepted / rejected items of a turn, dwell and went-on, logged as implicit feedback."""
        return sessions.feedback(req.session, req.turn, req.accepted, req.rejected, req.dwell, req.went_on,
                                 req.sentiment)

    @r.get("/crs", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "crs.html", media_type="text/html")

    return r
