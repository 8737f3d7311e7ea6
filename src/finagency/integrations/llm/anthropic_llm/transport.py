"""Let the anthropic SDK (built on ``httpx2``) send through the app's shared ``httpx`` client.

The SDK refuses ``httpx.AsyncClient`` objects, but the rest of the app, and every test, hands
out one ``httpx.AsyncClient`` (pooled, instrumented, or over ``ASGITransport`` to a fake).
``HttpxBridge`` is an ``httpx2`` transport that replays each request on that client and
streams the answer back; transport errors keep their class name (``ReadTimeout`` stays a
``ReadTimeout``) so the SDK classifies them as it would its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import httpx2


class _LegacyBody(httpx2.AsyncByteStream):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_raw():
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


class HttpxBridge(httpx2.AsyncBaseTransport):
    """An ``httpx2`` transport that sends every request through ``client``."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        content = await request.aread()
        timeout: Any = request.extensions.get("timeout")
        legacy = self._client.build_request(
            request.method,
            str(request.url),
            headers=request.headers.multi_items(),
            content=content,
            timeout=(
                httpx.Timeout(**timeout) if isinstance(timeout, dict) else httpx.USE_CLIENT_DEFAULT
            ),
        )
        try:
            response = await self._client.send(legacy, stream=True)
        except httpx.TransportError as exc:
            error_class = getattr(httpx2, type(exc).__name__, httpx2.TransportError)
            if not (
                isinstance(error_class, type) and issubclass(error_class, httpx2.TransportError)
            ):
                error_class = httpx2.TransportError
            raise error_class(str(exc), request=request) from exc
        try:
            # In-memory answers (MockTransport, prebuilt responses) arrive already read
            # and decoded, so they are passed on as content without their encoding header.
            body = response.content
        except httpx.ResponseNotRead:
            return httpx2.Response(
                response.status_code,
                headers=response.headers.multi_items(),
                stream=_LegacyBody(response),
                request=request,
            )
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length")
        ]
        return httpx2.Response(response.status_code, headers=headers, content=body, request=request)


def bridged_client(client: httpx.AsyncClient) -> httpx2.AsyncClient:
    """An ``httpx2.AsyncClient`` for the SDK that sends through ``client``."""
    # No timeout here: the SDK sends its own with every request and the bridge forwards it.
    return httpx2.AsyncClient(transport=HttpxBridge(client))
