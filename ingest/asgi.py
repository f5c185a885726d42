"""The little ASGI plumbing our HTTP services share (gateway, control plane): lifespan and replies.

Plain ASGI, no framework: the gateway's hot path stays a few function calls deep.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = tuple[tuple[bytes, bytes], ...]
Hook = Callable[[], Awaitable[None]]


async def serve_lifespan(
    receive: Receive,
    send: Send,
    startup: Callable[[], Awaitable[None]],
    shutdown: Callable[[], Awaitable[None]],
) -> None:
    """Answer the server's lifespan messages; a failed startup is reported, and the server exits."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await startup()
            except Exception as exc:  # noqa: BLE001 - reported to the server, which exits non-zero
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def send_json(send: Send, status: int, document: Any, headers: Headers = ()) -> None:
    body = orjson.dumps(document, default=str, option=orjson.OPT_NON_STR_KEYS)
    await send_body(send, status, body, b"application/json", headers)


async def send_body(send: Send, status: int, body: bytes, content_type: bytes, headers: Headers = ()) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
