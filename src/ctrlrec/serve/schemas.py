"""Request and response shapes of the HTTP API (they are also its OpenAPI documentation).

Types are strict: "5" is not a k, 1.0 is not a user id. Limits that depend on the service's
settings (k_max, history_max, text_max) are checked by the engine, which names them in its message.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints

from ctrlrec.scoring.intents import KINDS

Kind = Literal[KINDS]  # type: ignore[valid-type]
Title = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=300)]
# an id outside int64 can name no item or user; refused here (422 with "detail") before it reaches numpy
Id = Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]


class IntentPart(BaseModel):
    """One structured instruction: I1+ include C, I1- exclude C, I2<= / I2~ / I2>= a share m of C."""

    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Kind = Field(description="I0, I1+, I1-, I2<=, I2~, I2>= or I3")
    category: StrictStr | None = Field(None, max_length=100, description="the category C")
    proportion: float | None = Field(None, description="m in [0, 1], for the I2 kinds")


class RecommendRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "user_id": 12, "intent": [{"kind": "I2<=", "category": "Drama", "proportion": 0.2}],
            "text": "something light for a rainy evening", "k": 10, "mode": "guaranteed"}]})
    user_id: Id | None = Field(None, description="a user of the dataset: their history is used")
    history: list[Id | Title] | None = Field(
        None, description="liked items, oldest first: catalog titles or item ids (added to the user's)")
    intent: IntentPart | list[IntentPart] | None = Field(
        None, description="structured instruction: one part or a list of parts that must all hold")
    text: StrictStr = Field("", description="free text the user typed; goes into the prompt as is")
    k: StrictInt = Field(10, description="number of items, 1..k_max (50 by default)")
    mode: Literal["free", "catalog", "guaranteed"] | None = Field(
        None, description="free: the model alone; catalog: only catalog titles, no repeats or history, "
                          "exactly k; guaranteed: catalog plus the structured intent enforced")


class Item(BaseModel):
    item_id: int
    title: str
    categories: list[str]


class RecommendedItem(BaseModel):
    rank: int
    item_id: int | None = Field(description="null when the line names no catalog item (free mode)")
    title: str
    raw: str = Field(description="the line as generated")
    categories: list[str]
    satisfies: list[bool] = Field(description="per intent part: does the item satisfy it (I2: the list)")
    illegal: bool
    repeat: bool
    nonexistent: bool
    in_history: bool


class PartResult(BaseModel):
    kind: str
    category: str | None = None
    proportion: float | None = None
    TCP: float | None
    CPA: int | None
    satisfied: bool


class RecommendResponse(BaseModel):
    items: list[RecommendedItem]
    parts: list[PartResult]
    metrics: dict
    text: str = Field(description="the generated answer")
    k: int
    mode: str
    user_id: int | None
    history: list[Item] = Field(description="the most recent history items shown in the prompt")
    latency_ms: float


class UserResponse(BaseModel):
    user_id: int
    n_history: int
    history: list[Item]


class Health(BaseModel):
    status: str
    model: str
    dataset: str
    users: int
    items: int
    k_max: int
    default_mode: str
    queued: int
    batches: int
    served: int
