"""Orders: one contract for every lookup adapter, the import's upsert on every backend, `orders import`."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

import orders.models  # noqa: F401 - registers the tables (until tests/conftest.py imports it)
from core.clock import FixedClock
from core.db import Database, get_db, make_engine
from orders import cli as orders_cli
from orders.demo import DEMO_CUSTOMER, DEMO_FILE, load_demo_orders
from orders.fake import FakeOrderLookup
from orders.http import DEFAULT_TIMEOUT, HttpOrderLookup
from orders.importer import LineError, import_file, read_file
from orders.models import Order, Return
from orders.port import ORDER_STATUSES, RETURN_STATUSES, LookupUnavailable, OrderInfo, OrderLookup, ReturnInfo
from orders.records import to_json
from orders.store import SqlOrderStore, save

KINDLE = "112-4455667-1234567"
SCRIBE = "112-4455667-4567890"
JSON = "application/json"


def demo_records() -> list[OrderInfo | ReturnInfo]:
    """The demo file's records, as the import reads them."""
    records = [r for r in read_file(DEMO_FILE) if not isinstance(r, LineError)]
    return records


def demo_order(number: str) -> OrderInfo:
    """One demo order by its printed number."""
    return next(r for r in demo_records() if isinstance(r, OrderInfo) and r.number == number)


# --- A tiny order service, speaking the contract of orders/http.py (and misbehaving on request) --------


@dataclass
class OrderService:
    """An order service over any lookup, on a real socket; some numbers make it misbehave."""

    lookup: OrderLookup
    # Honour `since` and the order of the list, or send everything, oldest first.
    sloppy: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    authorizations: list[str | None] = field(default_factory=list)

    def app(self) -> Flask:
        """The Flask app of the service."""
        app = Flask("order-service")

        @app.get("/orders/<path:number>")
        def one_order(number: str) -> Any:
            self.authorizations.append(request.headers.get("Authorization"))
            if number in MISBEHAVIOURS:
                return MISBEHAVIOURS[number](self)
            found = self.lookup.order(number)
            return Response(to_json(found), mimetype=JSON) if found else ("no such order", 404)

        @app.get("/orders")
        def by_phone() -> Any:
            phone, since = request.args["phone"], datetime.fromisoformat(request.args["since"])
            if phone == "+12025550111":
                return {"orders": "none"}
            if self.sloppy:
                since = datetime(2000, 1, 1, tzinfo=UTC)
            found = self.lookup.orders_for_phone(phone, since)
            found = sorted(found, key=lambda o: o.placed_at) if self.sloppy else found
            return Response('{"orders": [' + ", ".join(to_json(o) for o in found) + "]}", mimetype=JSON)

        @app.get("/returns/<path:query>")
        def one_return(query: str) -> Any:
            found = self.lookup.return_for(query)
            return Response(to_json(found), mimetype=JSON) if found else ("no such return", 404)

        return app


def _slow(service: OrderService) -> Any:
    service.release.wait(10)
    return Response(to_json(demo_order(KINDLE)), mimetype=JSON)


def _trickle(service: OrderService) -> Any:
    def drip() -> Iterator[bytes]:
        for byte in to_json(demo_order(KINDLE)).encode():
            if service.release.wait(0.1):
                return
            yield bytes([byte])

    return Response(drip(), mimetype=JSON)


MISBEHAVIOURS = {
    "slow": _slow,
    "trickle": _trickle,
    "boom": lambda _s: ("Internal Server Error", 500),
    "unauthorized": lambda _s: ({"error": "bad token"}, 401),
    "moved": lambda _s: ("", 302, {"Location": f"/orders/{KINDLE}"}),
    "garbage": lambda _s: Response("<html><body>Bad Gateway</body></html>", mimetype="text/html"),
    "truncated": lambda _s: Response(to_json(demo_order(KINDLE))[:40], mimetype=JSON),
    "a-list": lambda _s: Response("[1, 2, 3]", mimetype=JSON),
    "bad-record": lambda _s: {**json.loads(to_json(demo_order(KINDLE))), "status": "lost"},
    "extended": lambda _s: {**json.loads(to_json(demo_order(KINDLE))), "customer": {"name": "Ada"}},
    "huge": lambda _s: Response('{"number": "' + "9" * 2_000_000 + '"}', mimetype=JSON),
}


@contextmanager
def serving(service: OrderService) -> Iterator[str]:
    """Run the service on a free port of 127.0.0.1 in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, service.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        # With a trailing slash, as operators write ORDER_API_URL half the time.
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        # Wake handlers still sleeping for the timeout tests, so none outlives the test.
        service.release.set()
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port nothing listens on: connections to it are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# --- The contract: every adapter answers the same questions the same way -------------------------------


@pytest.fixture(params=["sql", "http", "fake"])
def lookup(request: pytest.FixtureRequest, db: Database, clock: FixedClock) -> Iterator[OrderLookup]:
    """The demo data behind each adapter: the SQL store, the HTTP adapter (over a service on that store), a fake."""
    if request.param == "fake":
        yield FakeOrderLookup(demo_records())
        return
    with db.sessions() as session:
        load_demo_orders(session, clock)
    store = SqlOrderStore(db.sessions)
    if request.param == "sql":
        yield store
        return
    with serving(OrderService(store)) as base_url:
        yield HttpOrderLookup(base_url)


def test_every_demo_order_reads_back_exactly_as_imported(lookup: OrderLookup) -> None:
    expected = [r for r in demo_records() if isinstance(r, OrderInfo)]
    assert {o.status for o in expected} == set(ORDER_STATUSES)
    for order in expected:
        assert lookup.order(order.number) == order


def test_every_demo_return_reads_back_exactly_as_imported(lookup: OrderLookup) -> None:
    expected = [r for r in demo_records() if isinstance(r, ReturnInfo)]
    assert {r.status for r in expected} == set(RETURN_STATUSES)
    for ret in expected:
        assert lookup.return_for(ret.rma) == ret


@pytest.mark.parametrize("typed", [KINDLE, "11244556671234567", " 112 4455667 1234567 "])
def test_an_order_is_found_by_what_a_caller_can_key_or_say(lookup: OrderLookup, typed: str) -> None:
    found = lookup.order(typed)
    assert found is not None and found.number == KINDLE
    assert found.items[0].title == "Kindle Paperwhite" and found.carrier == "UPS"


@pytest.mark.parametrize("typed", ["112-4455667-0000000", "9", "RMA-700112", "", " - "])
def test_an_unknown_order_is_none(lookup: OrderLookup, typed: str) -> None:
    assert lookup.order(typed) is None


def test_a_callers_recent_orders_come_newest_first_from_since(lookup: OrderLookup) -> None:
    since = datetime(2026, 11, 15, tzinfo=UTC)
    recent = lookup.orders_for_phone(DEMO_CUSTOMER, since)
    assert [o.placed_at.date() for o in recent] == [
        date(2026, 11, 22),
        date(2026, 11, 20),
        date(2026, 11, 19),
        date(2026, 11, 18),
        date(2026, 11, 15),
    ]
    assert recent[1].items[0].title == "Kindle Paperwhite"
    assert lookup.orders_for_phone("+12025550199", since) == []
    # The greeting offers the latest alone: asked for one, a lookup reads one.
    assert lookup.orders_for_phone(DEMO_CUSTOMER, since, limit=1) == recent[:1]
    assert lookup.orders_for_phone(DEMO_CUSTOMER, since, limit=3) == recent[:3]


@pytest.mark.parametrize("typed", ["RMA-700112", "rma 700112", "700112", SCRIBE, "11244556674567890"])
def test_a_return_is_found_by_rma_with_or_without_prefix_or_by_its_order(lookup: OrderLookup, typed: str) -> None:
    found = lookup.return_for(typed)
    assert found is not None and found.rma == "RMA-700112"
    assert found.refund_amount == Decimal("339.99") and found.currency == "USD"
    assert found.refund_issued_at == datetime(2026, 11, 19, 10, tzinfo=UTC)


@pytest.mark.parametrize("typed", [KINDLE, "RMA-999999", "700199", "", "#"])
def test_an_order_without_a_return_or_an_unknown_rma_is_none(lookup: OrderLookup, typed: str) -> None:
    assert lookup.return_for(typed) is None


# Two numberings that overlap, as a shop's often do: order 1001 has its return under RMA-1500, while
# another order's return is RMA-1001.
OVERLAPPING = (
    ReturnInfo(rma="RMA-1500", order_number="1001", status="in_transit"),
    ReturnInfo(rma="RMA-1001", order_number="1200", status="refunded", refund_amount=Decimal("89.99"), currency="USD"),
)


@pytest.fixture(params=["sql", "http", "fake"])
def overlapping(request: pytest.FixtureRequest, db: Database, clock: FixedClock) -> Iterator[OrderLookup]:
    """OVERLAPPING behind each adapter."""
    if request.param == "fake":
        yield FakeOrderLookup(OVERLAPPING)
        return
    with db.sessions() as session:
        save(session, OVERLAPPING, clock.now())
        session.commit()
    store = SqlOrderStore(db.sessions)
    if request.param == "sql":
        yield store
        return
    with serving(OrderService(store)) as base_url:
        yield HttpOrderLookup(base_url)


@pytest.mark.parametrize("typed", ["1001", " 1001# "])
def test_a_keyed_order_number_finds_that_orders_return_not_a_strangers_rma(
    overlapping: OrderLookup, typed: str
) -> None:
    found = overlapping.return_for(typed)
    assert found is not None and (found.rma, found.order_number) == ("RMA-1500", "1001")


@pytest.mark.parametrize("typed", ["RMA-1001", "rma 1001", "RMA1001"])
def test_a_number_said_to_be_a_return_number_finds_that_rma(overlapping: OrderLookup, typed: str) -> None:
    found = overlapping.return_for(typed)
    assert found is not None and (found.rma, found.order_number) == ("RMA-1001", "1200")


def test_an_rma_with_no_order_of_that_number_is_still_found_without_its_prefix(overlapping: OrderLookup) -> None:
    found = overlapping.return_for("1500")
    assert found is not None and found.rma == "RMA-1500"


@pytest.fixture(params=["sqlite", "postgresql", "http", "fake"])
def broken(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OrderLookup]:
    """Each adapter with its data out of reach: a database that can't be opened, a dead service."""
    if request.param == "fake":
        fake = FakeOrderLookup()
        fake.unavailable = True
        yield fake
    elif request.param == "http":
        yield HttpOrderLookup(f"http://127.0.0.1:{closed_port()}")
    else:
        url = {
            "sqlite": f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite3'}",
            "postgresql": f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none?connect_timeout=2",
        }[request.param]
        database = Database(make_engine(url))
        yield SqlOrderStore(database.sessions)
        database.engine.dispose()


def test_order_data_out_of_reach_is_lookup_unavailable_never_a_crash(broken: OrderLookup) -> None:
    with pytest.raises(LookupUnavailable):
        broken.order(KINDLE)
    with pytest.raises(LookupUnavailable):
        broken.orders_for_phone(DEMO_CUSTOMER, datetime(2026, 11, 1, tzinfo=UTC))
    with pytest.raises(LookupUnavailable):
        broken.return_for("RMA-700112")


# --- The HTTP adapter against a service that misbehaves ------------------------------------------------


@pytest.fixture
def service() -> Iterator[tuple[OrderService, str]]:
    """A misbehaving-on-request order service over the demo data, and its base URL."""
    svc = OrderService(FakeOrderLookup(demo_records()))
    with serving(svc) as base_url:
        yield svc, base_url


def test_the_lookup_gives_up_after_three_seconds_by_default() -> None:
    assert DEFAULT_TIMEOUT == 3.0 and HttpOrderLookup("http://orders.internal/").timeout == 3.0


@pytest.mark.parametrize("number", ["slow", "trickle"])
def test_a_slow_or_dripping_service_is_given_up_on_at_the_deadline(
    service: tuple[OrderService, str], number: str
) -> None:
    adapter = HttpOrderLookup(service[1], timeout=0.5)
    started = time.monotonic()
    with pytest.raises(LookupUnavailable):
        adapter.order(number)
    # The whole lookup, not each read: a drip of a byte every 0.1 s would otherwise last 40 s.
    assert time.monotonic() - started < 0.9


@pytest.mark.parametrize(
    "number", ["boom", "unauthorized", "moved", "garbage", "truncated", "a-list", "bad-record", "huge"]
)
def test_an_answer_that_is_not_a_good_record_is_lookup_unavailable(
    service: tuple[OrderService, str], number: str
) -> None:
    with pytest.raises(LookupUnavailable):
        HttpOrderLookup(service[1]).order(number)


def test_a_404_is_no_such_order_and_extra_fields_are_ignored(service: tuple[OrderService, str]) -> None:
    adapter = HttpOrderLookup(service[1])
    assert adapter.order("112-0000000-0000000") is None
    assert adapter.return_for("RMA-000000") is None
    extended = adapter.order("extended")
    assert extended is not None and extended.number == KINDLE


def test_a_malformed_phone_list_is_lookup_unavailable(service: tuple[OrderService, str]) -> None:
    with pytest.raises(LookupUnavailable):
        HttpOrderLookup(service[1]).orders_for_phone("+12025550111", datetime(2026, 11, 1, tzinfo=UTC))


def test_the_adapter_keeps_the_ports_promise_when_the_service_ignores_since(
    service: tuple[OrderService, str],
) -> None:
    service[0].sloppy = True
    since = datetime(2026, 11, 19, tzinfo=UTC)
    recent = HttpOrderLookup(service[1]).orders_for_phone(DEMO_CUSTOMER, since)
    assert [o.placed_at.day for o in recent] == [22, 20, 19]


def test_the_bearer_token_is_sent_when_configured(service: tuple[OrderService, str]) -> None:
    HttpOrderLookup(service[1], token="s3cret").order(KINDLE)
    HttpOrderLookup(service[1]).order(KINDLE)
    assert service[0].authorizations == ["Bearer s3cret", None]


# --- The import's upsert, on every backend ------------------------------------------------------------


def write_lines(path: Path, *records: dict[str, Any] | str) -> Path:
    """A JSON Lines file of these records (strings are written as they are)."""
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


def order_record(number: str, **fields: Any) -> dict[str, Any]:
    """A minimal order record."""
    return {"type": "order", "number": number, "status": "processing", "placed_at": "2026-11-20T14:05:00Z", **fields}


def count(session: Session, model: type[Order] | type[Return]) -> int:
    """Rows in a table."""
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_demo_orders_load_twice_without_duplicates(session: Session, clock: FixedClock) -> None:
    assert load_demo_orders(session, clock) == 19
    assert load_demo_orders(session, clock) == 19
    assert (count(session, Order), count(session, Return)) == (12, 7)


def test_importing_again_replaces_each_order_whole(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    first = write_lines(
        tmp_path / "first.jsonl",
        order_record("A-1", carrier="UPS", items=[{"title": "Kindle", "quantity": 1}], phone="+12015550123"),
    )
    assert import_file(session, first, clock).orders == 1
    clock.advance(hours=1)
    # Spelt without the dash and with less detail: the same order, and what is left out is emptied.
    second = write_lines(tmp_path / "second.jsonl", order_record("a1", status="shipped"))
    assert import_file(session, second, clock).orders == 1
    session.expire_all()
    row = session.scalars(select(Order)).one()
    assert (row.number, row.status, row.carrier, row.phone, row.items) == ("a1", "shipped", None, None, "[]")
    assert row.updated_at == clock.now()


def test_within_one_file_the_last_line_for_a_number_wins(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "orders.jsonl", order_record("A-1"), order_record("A-1", status="delivered"), order_record("A-2")
    )
    summary = import_file(session, path, clock)
    assert (summary.orders, summary.returns, summary.errors) == (2, 0, [])
    assert session.scalar(select(Order.status).where(Order.number == "A-1")) == "delivered"


def test_bad_lines_are_reported_and_the_good_ones_loaded(
    db: Database, session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "mixed.jsonl",
        {"type": "return", "rma": "R-1", "order_number": "A-1", "status": "received"},
        order_record("A-1", status="lost"),
        "{oops",
        order_record("A-2"),
        order_record("A-3", shipped_at="9999-12-31T23:59:59-05:00"),  # a "no date" placeholder
    )
    summary = import_file(session, path, clock)
    assert (summary.orders, summary.returns) == (1, 1)
    assert [e.line for e in summary.errors] == [2, 3, 5]
    # A return may arrive before its order, or without it: there is no foreign key to trip over.
    assert SqlOrderStore(db.sessions).return_for("A-1") is not None


def test_refunds_in_any_currency_come_back_exact(
    db: Database, session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "refunds.jsonl",
        *(
            {
                "type": "return",
                "rma": rma,
                "order_number": "A-1",
                "status": "refunded",
                "refund_amount": amount,
                "currency": cur,
            }
            for rma, amount, cur in [("R-1", "0.10", "USD"), ("R-2", "1500", "JPY"), ("R-3", "12.345", "KWD")]
        ),
    )
    import_file(session, path, clock)
    store = SqlOrderStore(db.sessions)
    amounts = {rma: store.return_for(rma) for rma in ("R-1", "R-2", "R-3")}
    assert {rma: (r.refund_amount if r else None) for rma, r in amounts.items()} == {
        "R-1": Decimal("0.10"),
        "R-2": Decimal("1500"),
        "R-3": Decimal("12.345"),
    }
    assert session.scalar(select(Return.refund_amount_minor).where(Return.rma == "R-1")) == 10


def test_an_order_has_its_latest_return(db: Database, session: Session, clock: FixedClock, tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "returns.jsonl",
        {"type": "return", "rma": "R-1", "order_number": "A-1", "status": "rejected"},
        {"type": "return", "rma": "R-2", "order_number": "A-1", "status": "label_sent"},
    )
    import_file(session, path, clock)
    found = SqlOrderStore(db.sessions).return_for("A-1")
    assert found is not None and found.rma == "R-2"


def test_a_large_import_crosses_batches_and_keeps_every_order(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    path = write_lines(tmp_path / "many.jsonl", *(order_record(f"N-{n}") for n in range(1234)))
    assert import_file(session, path, clock).orders == 1234
    assert count(session, Order) == 1234


def test_recent_orders_are_capped_for_a_busy_caller(
    db: Database, session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    path = write_lines(
        tmp_path / "busy.jsonl",
        *(
            order_record(f"N-{n}", phone=DEMO_CUSTOMER, placed_at=(start + timedelta(hours=n)).isoformat())
            for n in range(30)
        ),
    )
    import_file(session, path, clock)
    recent = SqlOrderStore(db.sessions).orders_for_phone(DEMO_CUSTOMER, start)
    assert len(recent) == 20 and recent[0].number == "N-29"


# --- The command ---------------------------------------------------------------------------------------


@pytest.fixture
def runner(app: Flask) -> Any:
    """A CLI runner of the app with the `orders` commands registered."""
    # create_app does not register them yet; registering twice is harmless once it does.
    orders_cli.init_app(app)
    return app.test_cli_runner()


def test_orders_import_loads_the_demo_file_and_says_what_it_did(runner: Any) -> None:
    result = runner.invoke(args=["orders", "import", str(DEMO_FILE)])
    assert result.exit_code == 0, result.output
    assert result.output == f"loaded 12 orders and 7 returns from {DEMO_FILE}\n"


def test_orders_import_loads_good_lines_names_bad_ones_and_exits_1(runner: Any, app: Flask, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "orders.jsonl", order_record("A-1"), order_record("A-2", placed_at="tomorrow"))
    result = runner.invoke(args=["orders", "import", str(path)])
    assert result.exit_code == 1
    assert "line 2: placed_at: 'tomorrow' is not an ISO 8601 date and time" in result.stderr
    assert result.stdout == f"loaded 1 order and 0 returns; 1 bad line not loaded from {path}\n"
    lookup = SqlOrderStore(get_db(app).sessions)
    assert lookup.order("A-1") is not None and lookup.order("A-2") is None


def test_orders_import_reads_csv_with_national_numbers_in_the_default_region(
    runner: Any, app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "type,number,phone,status,placed_at,items\n"
        'order,A-1,(201) 555-0123,processing,2026-11-20T14:05:00Z,"Kindle Paperwhite x 1; Cover"\n'
    )
    result = runner.invoke(args=["orders", "import", str(path)])
    assert result.exit_code == 0, result.output
    found = SqlOrderStore(get_db(app).sessions).orders_for_phone("+12015550123", datetime(2026, 1, 1, tzinfo=UTC))
    assert [o.number for o in found] == ["A-1"] and len(found[0].items) == 2


def test_orders_import_refuses_a_missing_file(runner: Any) -> None:
    result = runner.invoke(args=["orders", "import", "/no/such/file.jsonl"])
    assert result.exit_code == 2 and "does not exist" in result.output
