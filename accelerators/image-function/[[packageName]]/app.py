"""The HTTP API (FastAPI on uvicorn): POST / and /predict, health endpoints, OpenAPI at /openapi.json."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from . import __version__
from .batching import QueueFull
from .errors import RequestError[[if #allowUrlInput]]
from .inputs import FetchUrl, image_bytes[[end #allowUrlInput]]
[[if !#allowUrlInput]]from .inputs import image_bytes
[[end !#allowUrlInput]]from .service import Service
[[if #allowUrlInput]]from .url_guard import UrlRefused
[[end #allowUrlInput]]
log = logging.getLogger(__name__)


class Label(BaseModel):
    label: str
    score: float = Field(ge=0, le=1)


class ModelInfo(BaseModel):
    name: str
    version: str
    source: str


class Prediction(BaseModel):
    predictions: list[Label] = Field(description="the top-k classes, most likely first")
    model: ModelInfo
    latency_ms: float = Field(description="time spent in the server, in milliseconds")


class Health(BaseModel):
    status: str
    model: ModelInfo | None = None


class Problem(BaseModel):
    error: str = Field(description="a stable machine-readable code")
    message: str


IMAGE_SCHEMA = {"type": "string", "format": "binary"}
REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "description": "one image: raw bytes, a multipart upload (field 'image') or JSON",
        "content": {
            "image/jpeg": {"schema": IMAGE_SCHEMA},
            "image/png": {"schema": IMAGE_SCHEMA},
            "image/gif": {"schema": IMAGE_SCHEMA},
            "image/webp": {"schema": IMAGE_SCHEMA},
            "image/bmp": {"schema": IMAGE_SCHEMA},
            "image/tiff": {"schema": IMAGE_SCHEMA},
            "application/octet-stream": {"schema": IMAGE_SCHEMA},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"image": IMAGE_SCHEMA}, "required": ["image"]}
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "format": "byte", "description": "base64-encoded image"},
[[if #allowUrlInput]]                        "url": {
                            "type": "string",
                            "format": "uri",
                            "description": "http(s) address of an image on an allowed host",
                        },
[[end #allowUrlInput]]                    },
                }
            },
        },
    }
}
ERRORS = {
    status: {"model": Problem, "description": description}
    for status, description in (
        (400, "not an image, a truncated or corrupt image, or a malformed body"),
        (413, "the body or the decoded image is over its limit"),
        (415, "unsupported Content-Type"),
        (503, "overloaded or still loading; retry after the Retry-After seconds"),
        (504, "the model did not answer in time"),
    )
}


def create_app(service: Service | None = None) -> FastAPI:
    """The ASGI application. The model loads in the lifespan, before the server accepts connections."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        active = service or Service()
        await run_in_threadpool(active.start)
        app.state.service = active
        try:
            yield
        finally:
            await run_in_threadpool(active.stop)

    app = FastAPI(
        title="[[projectName]]",
        description="[[description]]",
        version=__version__,
        lifespan=lifespan,
    )
    app.add_exception_handler(RequestError, _request_error)
    app.add_exception_handler(Exception, _unexpected_error)

    @app.get("/health/live", response_model=Health, tags=["health"])
    async def live() -> Health:
        """The process is up."""
        return Health(status="ok")

    @app.get("/health/ready", response_model=Health, responses={503: {"model": Health}}, tags=["health"])
    async def ready(request: Request) -> JSONResponse:
        """A model is loaded and warmed up."""
        active: Service | None = getattr(request.app.state, "service", None)
        model = active.model if active else None
        if model is None:
            return JSONResponse({"status": "loading", "model": None}, status_code=503)
        return JSONResponse({"status": "ready", "model": model.describe()})

    @app.post(
        "/predict",
        response_model=Prediction,
        responses=ERRORS,
        openapi_extra=REQUEST_BODY,
        operation_id="predict",
        tags=["predict"],
    )
    async def predict(request: Request) -> JSONResponse:
        """Classify one image; returns the top-k labels with scores."""
        return await _predict(request)

    @app.post(
        "/",
        response_model=Prediction,
        responses=ERRORS,
        openapi_extra=REQUEST_BODY,
        operation_id="predictRoot",
        tags=["predict"],
    )
    async def predict_root(request: Request) -> JSONResponse:
        """Same as POST /predict (the function-style entry point)."""
        return await _predict(request)

    return app


async def _predict(request: Request) -> JSONResponse:
    started = time.perf_counter()
    active: Service = request.app.state.service
    settings = active.settings
    with active.batcher.arriving() as ticket:[[if #allowUrlInput]]
        data = await image_bytes(request, settings.max_upload_bytes, _url_fetcher(active))[[end #allowUrlInput]]
[[if !#allowUrlInput]]        data = await image_bytes(request, settings.max_upload_bytes, fetch_url=None)
[[end !#allowUrlInput]]        array, model = await run_in_threadpool(active.prepare, data)
        try:
            future = ticket.submit(array, model)
        except QueueFull:
            raise RequestError(
                503, "overloaded", "too many requests are waiting; retry shortly", retry_after=1
            ) from None
    try:
        probabilities = await asyncio.wait_for(asyncio.wrap_future(future), settings.request_timeout_seconds)
    except TimeoutError:
        raise RequestError(504, "timeout", "the model did not answer in time") from None
    return JSONResponse(active.answer(probabilities, model, started))


[[if #allowUrlInput]]def _url_fetcher(active: Service) -> FetchUrl | None:
    """Fetching by URL runs the blocking, guarded client in the thread pool."""
    fetcher = active.fetcher
    if fetcher is None:
        return None

    async def fetch(url: str) -> bytes:
        try:
            return await run_in_threadpool(fetcher.fetch, url)
        except UrlRefused as exc:
            raise RequestError(exc.status, exc.code, exc.message) from None

    return fetch


[[end #allowUrlInput]]async def _request_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestError)
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal", "message": "internal error; see the server log"}, status_code=500)


app = create_app()
