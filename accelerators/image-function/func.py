"""Function Buildpacks for Knative entry point, kept for compatibility: `main(req)`.

The deprecated Python function buildpack (BP_FUNCTION=func.main) calls `main` with a Flask request.
The project itself deploys with the Paketo Python buildpack and the Procfile's production server;
`main` shares its code path: the model is loaded once per process on the first call, never per request.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from [[packageName]].errors import RequestError
from [[packageName]].imaging import RAW_MEDIA_TYPES
from [[packageName]].inputs import decode_base64, media_type_of
from [[packageName]].service import Service

_service: Service | None = None
_lock = threading.Lock()


def service() -> Service:
    global _service
    with _lock:
        if _service is None:
            started = Service()
            started.start()
            _service = started
    return _service


def main(req: Any) -> Any:
    """Classify the image in `req` (raw image body, multipart field 'image', or JSON {"image": base64})."""
    try:
        payload, status = service().classify(_image_bytes(req)), 200
    except RequestError as exc:
        payload, status = exc.body(), exc.status
    return _response(payload, status)


def _image_bytes(req: Any) -> bytes:
    files = getattr(req, "files", None)
    if files:
        upload = files.get("image") or next(iter(files.values()))
        return upload.read()
    media_type = media_type_of(req.headers.get("Content-Type"))
    data = req.get_data()
    limit = service().settings.max_upload_bytes
    if len(data) > limit:
        raise RequestError(413, "payload_too_large", f"the request body is larger than {limit:,} bytes")
    if media_type in RAW_MEDIA_TYPES:
        return data
    if media_type == "application/json":
        try:
            document = json.loads(data)
        except ValueError:
            raise RequestError(400, "bad_json", "the body is not valid JSON") from None
        if isinstance(document, dict) and "image" in document:
            return decode_base64(document["image"])
        raise RequestError(400, "missing_image", 'the JSON body needs "image": a base64-encoded image')
    raise RequestError(415, "unsupported_media_type", f"Content-Type {media_type!r} is not supported")


def _response(payload: dict[str, Any], status: int) -> Any:
    body = json.dumps(payload)
    try:
        from flask import Response  # present under the function buildpack's invoker
    except ImportError:
        return body, status, {"Content-Type": "application/json"}
    return Response(body, status=status, mimetype="application/json")
