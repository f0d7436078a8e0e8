"""Get the image bytes out of a request: a raw image body, a multipart upload or JSON.

The body is read in chunks and refused (413) as soon as it passes the size limit, before it is parsed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from .errors import RequestError
from .imaging import MEDIA_TYPES, RAW_MEDIA_TYPES

FetchUrl = Callable[[str], Awaitable[bytes]]
ACCEPTED = "an image (" + ", ".join(sorted(MEDIA_TYPES)) + "), multipart/form-data or application/json"


def media_type_of(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise RequestError(400, "client_disconnected", "the client closed the connection mid-request") from None
    return b"".join(chunks)


async def image_bytes(request: Request, limit: int, fetch_url: FetchUrl | None) -> bytes:
    media_type = media_type_of(request.headers.get("content-type"))
    if not media_type:
        raise RequestError(415, "unsupported_media_type", f"set Content-Type; this endpoint takes {ACCEPTED}")
    if media_type not in RAW_MEDIA_TYPES and media_type not in ("multipart/form-data", "application/json"):
        raise RequestError(
            415, "unsupported_media_type", f"Content-Type {media_type!r} is not supported; send {ACCEPTED}"
        )
    body = await read_body(request, limit)
    if media_type in RAW_MEDIA_TYPES:
        return body
    if media_type == "multipart/form-data":
        return await from_multipart(request.headers, body, limit)
    return await from_json(body, fetch_url)


async def from_multipart(headers: Headers, body: bytes, limit: int) -> bytes:
    async def stream() -> AsyncIterator[bytes]:
        yield body

    parser = MultiPartParser(headers, stream(), max_files=1, max_fields=16, max_part_size=limit)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise RequestError(400, "bad_multipart", f"the multipart body cannot be parsed: {exc.message}") from None
    try:
        upload = form.get("image") or form.get("file")
        if not isinstance(upload, UploadFile):
            upload = next((value for _, value in form.multi_items() if isinstance(value, UploadFile)), None)
        if upload is None:
            raise RequestError(400, "missing_image", "the multipart body has no file; send it in a field named 'image'")
        media_type = media_type_of(upload.content_type)
        if media_type and media_type not in RAW_MEDIA_TYPES:
            raise RequestError(415, "unsupported_media_type", f"the uploaded file is {media_type!r}; send {ACCEPTED}")
        return await upload.read()
    finally:
        await form.close()


async def from_json(body: bytes, fetch_url: FetchUrl | None) -> bytes:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise RequestError(400, "bad_json", "the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise RequestError(400, "bad_json", 'the JSON body must be an object such as {"image": "<base64>"}')
    if "image" in document:
        return decode_base64(document["image"])
    if "url" in document:
        if fetch_url is None:
            raise RequestError(400, "url_input_disabled", "this function does not fetch images by URL")
        if not isinstance(document["url"], str):
            raise RequestError(400, "bad_url", "'url' must be a string")
        return await fetch_url(document["url"])
    raise RequestError(400, "missing_image", 'the JSON body needs "image": a base64-encoded image')


def decode_base64(value: object) -> bytes:
    if not isinstance(value, str):
        raise RequestError(400, "bad_base64", "'image' must be a base64 string")
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]  # a data URL: data:image/png;base64,....
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(400, "bad_base64", "'image' is not valid base64") from None


def _too_large(limit: int) -> RequestError:
    return RequestError(413, "payload_too_large", f"the request body is larger than {limit:,} bytes")
