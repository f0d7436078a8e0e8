"""`python -m [[packageName]]`: the production server (the Procfile's web process).

One process, one model in memory: concurrency comes from asyncio plus the micro-batcher, not from
worker processes. Knative sets PORT; 8080 otherwise.
"""

from __future__ import annotations

import logging
import os

import uvicorn


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    uvicorn.run(
        "[[packageName]].app:app",
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8080")),
        workers=1,
        loop="uvloop",  # with httptools: uvicorn's production stack, pinned in requirements.txt
        http="httptools",
        log_config=None,
        access_log=os.environ.get("ACCESS_LOG", "false").lower() in ("1", "true", "yes"),
        timeout_keep_alive=30,
        # an outer bound on open connections and tasks (uvicorn answers 503 beyond it), so many slow
        # uploads cannot exhaust memory; the model queue has its own, smaller bound (QUEUE_SIZE)
        limit_concurrency=int(os.environ.get("LIMIT_CONCURRENCY", "512")),
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
