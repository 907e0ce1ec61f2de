"""The HTTP adapter: the lookup port over the shop's own order service at ORDER_API_URL.

The order service's JSON contract
---------------------------------
Callme makes three kinds of GET request to the service, each with `Accept: application/json` and,
when ORDER_API_TOKEN is set, `Authorization: Bearer <token>`. Path values are percent-encoded.

`GET {ORDER_API_URL}/orders/{number}`
    One order. `number` is what the caller keyed or said, so it may lack the dashes of the printed
    number (`11244556671234567` for `112-4455667-1234567`): match it ignoring punctuation and case.
    200 with an order record; 404 when there is no such order.

`GET {ORDER_API_URL}/orders?phone={e164}&since={instant}`
    The caller's recent orders, to recognise them from their caller ID. `phone` is E.164
    (`+12015550123`), `since` an ISO 8601 UTC instant (`2026-08-25T15:00:00Z`).
    200 with `{"orders": [order record, ...]}` (an empty list when there are none; 404 is read as
    none too). Callme keeps those placed at or after `since`, newest first, at most 20.

`GET {ORDER_API_URL}/returns/{rma_or_order_number}`
    A return: the latest return of the order with that number, or else the return with that RMA
    (with or without a leading "RMA"); a query that starts with "RMA" is an RMA first. Numberings
    overlap (order 1001, and RMA-1001 of another order): a caller keys their order number, as the
    menu asks. 200 with a return record; 404 when there is none.

The records are the import's records (see orders/importer.py), with `"type"` optional:

    {"type": "order", "number": "112-4455667-1234567", "phone": "+12015550123",
     "status": "shipped", "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
     "placed_at": "2026-11-20T14:05:00Z", "shipped_at": "2026-11-21T09:30:00Z",
     "estimated_delivery": "2026-11-25", "delivered_at": null,
     "items": [{"title": "Kindle Paperwhite", "quantity": 1}]}

    {"type": "return", "rma": "RMA-700112", "order_number": "112-4455667-1234567",
     "status": "refunded", "refund_amount": 149.99, "currency": "USD",
     "received_at": "2026-11-18T16:00:00Z", "refund_issued_at": "2026-11-19T10:00:00Z",
     "refund_method": "original_payment"}

Fields the records do not define are ignored, so the service may send more. Everything else is
checked as the import checks it: a record the import would refuse counts as a broken answer.

Callers are on the line, and Twilio gives a webhook 15 seconds, so the service has 3 seconds in all:
1 to accept the connection and the rest to send the whole response. A timeout, a refused connection,
a redirect, any status other than 200 and 404, a body over 1 MB, malformed JSON, JSON nested more than
8 levels deep, or a refused record is "I can't look that up right now" (LookupUnavailable): the caller
is told so and transferred.
There are no retries; the caller is waiting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import requests
import urllib3

from core import payload
from orders.port import RECENT_LIMIT, LookupUnavailable, OrderInfo, ReturnInfo, order_key, recent_count
from orders.records import RecordError, parse_order, parse_return

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 3.0
MAX_BODY = 1_000_000
# A record is an object holding a list of items: anything nested deeper is not an answer of ours.
MAX_DEPTH = 8
# Network failures surface from requests while connecting and from urllib3 or the socket while streaming.
_NETWORK_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)

T = TypeVar("T", OrderInfo, ReturnInfo)


class _BadAnswer(Exception):
    """The service answered, but not with something we can use."""


class HttpOrderLookup:
    """OrderLookup over the shop's order service; every lookup ends within `timeout` seconds."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        http: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # One session keeps connections open between lookups: no TCP or TLS handshake per caller.
        self._http = http or requests.Session()
        self._headers = {"Accept": "application/json", "User-Agent": "callme-orders"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"

    def order(self, number: str) -> OrderInfo | None:
        """The order with this number, or None when the service says 404."""
        if not order_key(number):
            return None
        data = self._get(f"/orders/{quote(number.strip(), safe='')}")
        return None if data is None else self._record(parse_order, data)

    def orders_for_phone(self, e164: str, since: datetime, limit: int = RECENT_LIMIT) -> list[OrderInfo]:
        """The phone's orders placed at or after `since`, most recent first, at most `limit`."""
        if since.tzinfo is None:
            raise ValueError("since must be an aware datetime")
        stamp = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
        data = self._get("/orders", {"phone": e164, "since": stamp})
        if data is None:
            return []
        if not isinstance(data, dict) or not isinstance(data.get("orders"), list):
            raise self._broken('expected {"orders": [...]}')
        orders = [self._record(parse_order, entry) for entry in data["orders"]]
        # The service may ignore `since` or the order; the port's promise is kept here either way.
        recent = [o for o in orders if o.placed_at >= since]
        return sorted(recent, key=lambda o: o.placed_at, reverse=True)[: recent_count(limit)]

    def return_for(self, rma_or_order_number: str) -> ReturnInfo | None:
        """The return with this RMA or of this order, or None when the service says 404."""
        if not order_key(rma_or_order_number):
            return None
        data = self._get(f"/returns/{quote(rma_or_order_number.strip(), safe='')}")
        return None if data is None else self._record(parse_return, data)

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any | None:
        """GET a JSON document by the deadline: the parsed body, None on 404, else LookupUnavailable."""
        deadline = time.monotonic() + self.timeout
        connect = self.timeout / 3
        try:
            with self._http.get(
                self.base_url + path,
                params=params,
                headers=self._headers,
                # Connect, then the first bytes of the answer, both inside the total.
                timeout=(connect, self.timeout - connect),
                stream=True,
                # A redirect would be a second request with a fresh timeout; the URL should be the real one.
                allow_redirects=False,
            ) as response:
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    raise _BadAnswer(f"HTTP {response.status_code}")
                body = _read_body(response, deadline)
        except _BadAnswer as error:
            raise self._broken(f"{error} for {path}") from error
        except _NETWORK_ERRORS as error:
            raise self._broken(f"{error.__class__.__name__} for {path}: {error}") from error
        try:
            # Decimal, so 149.99 stays 149.99 on its way to the caller's ear.
            return payload.loads(body, max_depth=MAX_DEPTH, parse_float=Decimal)
        except payload.TooDeep as error:
            raise self._broken(f"JSON nested too deeply for {path}") from error
        except ValueError as error:
            raise self._broken(f"malformed JSON for {path}") from error

    def _record(self, parse: Callable[..., T], data: object) -> T:
        """A validated record from the service, or LookupUnavailable saying which field is wrong."""
        if not isinstance(data, dict):
            raise self._broken("expected a JSON object")
        try:
            return parse(data, extra_fields=True)
        except RecordError as error:
            raise self._broken(f"bad record: {error}") from error

    def _broken(self, reason: str) -> LookupUnavailable:
        """Log why the service could not answer; the caller only hears that we can't look it up."""
        log.warning("order service %s unavailable: %s", self.base_url, reason)
        return LookupUnavailable(reason)


def _read_body(response: requests.Response, deadline: float) -> bytes:
    """Read the whole body by the deadline and under MAX_BODY, however slowly the server sends it."""
    raw = response.raw
    body = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no complete answer within the deadline ({len(body):,} bytes read)")
        # A per-read timeout alone lets a server that drips a byte a second hold the caller forever:
        # each wait on the socket may only use what is left of the total.
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            sock.settimeout(remaining)
        chunk = raw.read1(65536, decode_content=True)
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > MAX_BODY:
            raise _BadAnswer(f"an answer over {MAX_BODY:,} bytes")
