"""What the phone menu says about orders and returns in Spanish: as a US Spanish-speaking agent says it, usted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ivr.answers import describe_items, items_phrase, money, opening_time, order_sentence, return_sentence, when
from orders.port import ORDER_STATUSES, RETURN_STATUSES, ItemInfo, OrderInfo, ReturnInfo

TODAY = date(2026, 11, 23)  # a Monday
ESTIMATES = {"future": date(2026, 11, 27), "today": TODAY, "past": date(2026, 11, 20), "missing": None}
NEW_YORK = ZoneInfo("America/New_York")


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 15, 0, tzinfo=UTC)


def order(status: str, *items: ItemInfo, **fields: object) -> OrderInfo:
    base: dict[str, object] = {
        "number": "112-4455667-1234567",
        "status": status,
        "placed_at": at(18),
        "items": items or (ItemInfo("Kindle Paperwhite"),),
        "carrier": "UPS",
    }
    base.update(fields)
    return OrderInfo(**base)  # type: ignore[arg-type]


def a_return(status: str, **fields: object) -> ReturnInfo:
    base: dict[str, object] = {"rma": "RMA-2026-00123", "order_number": "112-4455667-1234567", "status": status}
    base.update(fields)
    return ReturnInfo(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (date(2026, 11, 23), "hoy"),
        (date(2026, 11, 22), "ayer"),
        (date(2026, 11, 24), "mañana"),
        (date(2026, 11, 27), "el viernes 27 de noviembre"),
        (at(20), "el viernes 20 de noviembre"),
        (date(2026, 12, 1), "el martes primero de diciembre"),
        (date(2025, 12, 1), "el lunes primero de diciembre de 2025"),
        (None, "recientemente"),
    ],
)
def test_dates_are_said_the_spanish_way(value: date | None, text: str) -> None:
    assert when(value, TODAY, language="es") == text


@pytest.mark.parametrize("language", ["es", "es-US", "es_MX", "ES"])
def test_any_spanish_tag_is_spoken_in_spanish(language: str) -> None:
    assert when(date(2026, 11, 22), TODAY, language=language) == "ayer"


def test_a_language_we_do_not_speak_is_answered_in_english() -> None:
    assert when(date(2026, 11, 22), TODAY, language="fr-CA") == "yesterday"


@pytest.mark.parametrize(
    ("local", "text"),
    [
        (datetime(2026, 11, 23, 9, 0, tzinfo=NEW_YORK), "a las 9 de la mañana"),
        (datetime(2026, 11, 23, 13, 45, tzinfo=NEW_YORK), "a la 1:45 de la tarde"),
        (datetime(2026, 11, 23, 20, 0, tzinfo=NEW_YORK), "a las 8 de la noche"),
        (datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK), "mañana a las 9:30 de la mañana"),
        (datetime(2026, 11, 26, 12, 0, tzinfo=NEW_YORK), "el jueves a las 12 del mediodía"),
        (datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK), "el lunes 30 de noviembre a las 9 de la mañana"),
        (datetime(2026, 12, 1, 9, 0, tzinfo=NEW_YORK), "el martes primero de diciembre a las 9 de la mañana"),
    ],
)
def test_opening_times_are_said_the_spanish_way(local: datetime, text: str) -> None:
    assert opening_time(local, TODAY, language="es-US") == text


ORDER_SENTENCES = {
    ("processing", "future"): "Su Kindle Paperwhite se pidió el miércoles 18 de noviembre y se está preparando. "
    "Debería llegar el viernes 27 de noviembre.",
    ("processing", "today"): "Su Kindle Paperwhite se pidió el miércoles 18 de noviembre y todavía se está "
    "preparando. Se esperaba para hoy y va con retraso. Disculpe las molestias.",
    ("processing", "past"): "Su Kindle Paperwhite se pidió el miércoles 18 de noviembre y todavía se está "
    "preparando. Se esperaba para el viernes 20 de noviembre y va con retraso. Disculpe las molestias.",
    ("processing", "missing"): "Su Kindle Paperwhite se pidió el miércoles 18 de noviembre y se está preparando. "
    "Tendremos la fecha de entrega cuando se envíe.",
    ("shipped", "future"): "Su Kindle Paperwhite se envió el sábado 21 de noviembre con U P S. "
    "Debería llegar el viernes 27 de noviembre.",
    ("shipped", "today"): "Su Kindle Paperwhite se envió el sábado 21 de noviembre con U P S. Debería llegar hoy.",
    ("shipped", "past"): "Su Kindle Paperwhite se envió el sábado 21 de noviembre con U P S. "
    "Se esperaba para el viernes 20 de noviembre y va con retraso. Disculpe las molestias.",
    ("shipped", "missing"): "Su Kindle Paperwhite se envió el sábado 21 de noviembre con U P S.",
    ("delayed", "future"): "Lo siento: su Kindle Paperwhite viene con retraso. "
    "Ahora debería llegar el viernes 27 de noviembre.",
    ("delayed", "today"): "Lo siento: su Kindle Paperwhite viene con retraso. Ahora debería llegar hoy.",
    ("delayed", "past"): "Su Kindle Paperwhite se esperaba para el viernes 20 de noviembre y va con retraso. "
    "Lo siento; todavía no tenemos una nueva fecha.",
    ("delayed", "missing"): "Lo siento: su Kindle Paperwhite viene con retraso y todavía no tenemos una nueva fecha.",
}
SETTLED = {
    "out_for_delivery": "Buenas noticias: su Kindle Paperwhite ya salió para entrega con U P S y debería llegar hoy.",
    "delivered": "Su Kindle Paperwhite se entregó ayer.",
    "canceled": "Su Kindle Paperwhite se canceló. Si se le hizo algún cargo, el reembolso ya está en camino.",
}
ORDER_SENTENCES |= {(status, key): said for status, said in SETTLED.items() for key in ESTIMATES}


def test_every_order_status_is_covered() -> None:
    assert {status for status, _ in ORDER_SENTENCES} == set(ORDER_STATUSES)


@pytest.mark.parametrize(("status", "estimate"), sorted(ORDER_SENTENCES))
def test_every_order_status_has_a_spanish_sentence_in_the_tense_of_its_estimate(status: str, estimate: str) -> None:
    shipped = at(21) if status != "processing" else None
    delivered = at(22) if status == "delivered" else None
    info = order(status, shipped_at=shipped, delivered_at=delivered, estimated_delivery=ESTIMATES[estimate])
    assert order_sentence(info, TODAY, language="es") == ORDER_SENTENCES[(status, estimate)]


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (order("delivered"), "Su Kindle Paperwhite ya se entregó."),
        (order("shipped", carrier="USPS", shipped_at=at(22)),
         "Su Kindle Paperwhite se envió ayer con el servicio postal."),
        (order("shipped", carrier="fedex"), "Su Kindle Paperwhite se envió recientemente con FedEx."),
        (order("shipped", carrier=None, shipped_at=at(22)), "Su Kindle Paperwhite se envió ayer."),
        (
            order("out_for_delivery", carrier="DHL"),
            "Buenas noticias: su Kindle Paperwhite ya salió para entrega con D H L y debería llegar hoy.",
        ),
        (order("returned_to_sender"), "El estado de su Kindle Paperwhite es: returned to sender."),
    ],
)  # fmt: skip
def test_missing_dates_and_carriers_are_left_out_in_spanish_too(info: OrderInfo, expected: str) -> None:
    assert order_sentence(info, TODAY, language="es") == expected


def test_several_things_agree_in_the_plural() -> None:
    cables = (ItemInfo("USB-C Cable", 2),)
    late = order("processing", *cables, estimated_delivery=date(2026, 11, 20))
    assert order_sentence(late, TODAY, language="es") == (
        "Sus dos USB-C Cable se pidieron el miércoles 18 de noviembre y todavía se están preparando. "
        "Se esperaban para el viernes 20 de noviembre y van con retraso. Disculpe las molestias."
    )
    assert order_sentence(order("processing", *cables), TODAY, language="es") == (
        "Sus dos USB-C Cable se pidieron el miércoles 18 de noviembre y se están preparando. "
        "Tendremos la fecha de entrega cuando se envíen."
    )
    shipped = order("shipped", *cables, shipped_at=at(21), estimated_delivery=date(2026, 11, 27))
    assert order_sentence(shipped, TODAY, language="es") == (
        "Sus dos USB-C Cable se enviaron el sábado 21 de noviembre con U P S. "
        "Deberían llegar el viernes 27 de noviembre."
    )
    assert order_sentence(order("out_for_delivery", *cables), TODAY, language="es") == (
        "Buenas noticias: sus dos USB-C Cable ya salieron para entrega con U P S y deberían llegar hoy."
    )
    assert order_sentence(order("delivered", *cables, delivered_at=at(22)), TODAY, language="es") == (
        "Sus dos USB-C Cable se entregaron ayer."
    )
    assert order_sentence(order("delayed", *cables, estimated_delivery=date(2026, 11, 27)), TODAY, "es") == (
        "Lo siento: sus dos USB-C Cable vienen con retraso. Ahora deberían llegar el viernes 27 de noviembre."
    )
    assert order_sentence(order("canceled", *cables), TODAY, language="es") == (
        "Sus dos USB-C Cable se cancelaron. Si se le hizo algún cargo, el reembolso ya está en camino."
    )


def test_an_order_of_several_lines_is_the_subject_and_stays_singular() -> None:
    lines = (ItemInfo("Echo Dot (5th Gen)", 2), ItemInfo("Smart Plug"))
    info = order("processing", *lines, placed_at=at(22), estimated_delivery=date(2026, 11, 27))
    assert order_sentence(info, TODAY, language="es") == (
        "Su pedido de dos Echo Dot y otro artículo se hizo ayer y se está preparando. "
        "Debería llegar el viernes 27 de noviembre."
    )


@pytest.mark.parametrize(
    ("items", "phrase", "subject"),
    [
        ((ItemInfo("Kindle Paperwhite"),), "un Kindle Paperwhite", "su Kindle Paperwhite"),
        ((ItemInfo("Echo Dot (5th Gen)", 2),), "dos Echo Dot", "sus dos Echo Dot"),
        ((ItemInfo("Apple AirPods Pro"),), "unos Apple AirPods Pro", "sus Apple AirPods Pro"),
        ((ItemInfo("Echo Dot", 12),), "12 Echo Dot", "sus 12 Echo Dot"),
        ((ItemInfo("Storage Box", 10),), "diez Storage Box", "sus diez Storage Box"),
        (
            (ItemInfo("Echo Dot (5th Gen)", 2), ItemInfo("Smart Plug")),
            "dos Echo Dot y otro artículo",
            "su pedido de dos Echo Dot y otro artículo",
        ),
        (
            (ItemInfo("Kindle Paperwhite 16GB - Black"), ItemInfo("USB cable", 2), ItemInfo("Case")),
            "un Kindle Paperwhite y otros tres artículos",
            "su pedido de un Kindle Paperwhite y otros tres artículos",
        ),
        ((), "algunos artículos", "su pedido"),
    ],
)
def test_items_are_counted_in_spanish_and_product_names_are_not_pluralised(
    items: tuple[ItemInfo, ...], phrase: str, subject: str
) -> None:
    info = OrderInfo(number="1", status="shipped", placed_at=at(18), items=items)
    assert items_phrase(info, language="es") == phrase
    assert describe_items(info, language="es") == subject


@pytest.mark.parametrize(
    ("amount", "currency", "said"),
    [
        ("24.99", "USD", "24 dólares con 99 centavos"),
        ("20", "USD", "20 dólares"),
        ("1", "USD", "un dólar"),
        ("1.01", "USD", "un dólar con un centavo"),
        ("0.99", "USD", "99 centavos"),
        ("1299.50", None, "1,299 dólares con 50 centavos"),
        ("21.05", "CAD", "21 dólares canadienses con 5 centavos"),
        ("20.50", "EUR", "20 euros con 50 centavos"),
        ("20.50", "GBP", "20 libras esterlinas con 50 peniques"),
        ("1.50", "GBP", "una libra esterlina con 50 peniques"),
        ("1", "EUR", "un euro"),
        ("150.25", "MXN", "150 pesos mexicanos con 25 centavos"),
        ("1500", "JPY", "1,500 yenes japoneses"),
    ],
)
def test_amounts_are_read_the_spanish_way(amount: str, currency: str | None, said: str) -> None:
    assert money(Decimal(amount), currency, language="es") == said


RETURN_SENTENCES = {
    "requested": "Tenemos su solicitud de devolución. En breve le enviaremos una etiqueta de envío por correo "
    "electrónico.",
    "label_sent": "Le enviamos por correo electrónico una etiqueta de envío prepagada. Cuando entregue el paquete, "
    "nosotros nos encargamos del resto.",
    "in_transit": "Su devolución está en camino hacia nosotros. Le avisaremos en cuanto llegue.",
    "received": "Recibimos su devolución el viernes 20 de noviembre. Su reembolso de 89 dólares con 99 centavos se "
    "está procesando y normalmente se emite en un plazo de tres días hábiles.",
    "refunded": "Su reembolso de 129 dólares con 99 centavos se emitió el sábado 21 de noviembre a su método de pago "
    "original. Debería reflejarse el viernes 27 de noviembre, dependiendo de su banco.",
    "rejected": "Lo siento: esta devolución no fue aceptada. Le enviamos el motivo por correo electrónico.",
}


@pytest.mark.parametrize("status", RETURN_STATUSES)
def test_every_return_status_has_a_spanish_sentence(status: str) -> None:
    info = a_return(
        status,
        refund_amount=Decimal("89.99") if status == "received" else Decimal("129.99"),
        currency="USD",
        received_at=at(20),
        refund_issued_at=at(21) if status == "refunded" else None,
        refund_method="original_payment" if status == "refunded" else None,
    )
    assert return_sentence(info, TODAY, language="es") == RETURN_SENTENCES[status]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"status": "received"}, "Ya recibimos su devolución. Su reembolso se está procesando y normalmente se "
         "emite en un plazo de tres días hábiles."),
        ({"status": "refunded", "refund_amount": Decimal("20"), "currency": "USD"},
         "Su reembolso de 20 dólares ya se emitió a su método de pago original."),
        ({"status": "refunded", "refund_issued_at": at(22), "refund_method": "store_credit",
          "refund_amount": Decimal("249"), "currency": "USD"},
         "Su reembolso de 249 dólares se emitió ayer como crédito de la tienda."),
        ({"status": "refunded", "refund_issued_at": at(20), "refund_method": "paypal"},
         "Su reembolso se emitió el viernes 20 de noviembre a su cuenta de PayPal. Debería reflejarse hoy."),
        ({"status": "refunded", "refund_issued_at": at(22), "refund_method": "gift_card"},
         "Su reembolso se emitió ayer en una tarjeta de regalo."),
        ({"status": "refunded", "refund_issued_at": at(23), "refund_method": "card"},
         "Su reembolso se emitió hoy a su tarjeta. Debería reflejarse el lunes 30 de noviembre, dependiendo de "
         "su banco."),
        ({"status": "on_hold"}, "El estado de su devolución es: on hold."),
        ({"status": "refunded", "refund_issued_at": at(22), "refund_method": "Store Credit"},
         "Su reembolso se emitió ayer como crédito de la tienda."),
        ({"status": "refunded", "refund_issued_at": at(22), "refund_method": "bank transfer"},
         "Su reembolso se emitió ayer a su cuenta bancaria. Debería reflejarse el viernes 27 de noviembre, "
         "dependiendo de su banco."),
        ({"status": "refunded", "refund_issued_at": at(22), "refund_amount": Decimal("0"), "currency": "EUR"},
         "Su devolución ya se procesó. No correspondía ningún reembolso."),
    ],
)  # fmt: skip
def test_spanish_refunds_say_how_much_where_and_when_they_show(fields: dict[str, object], expected: str) -> None:
    info = a_return(**fields)  # type: ignore[arg-type]
    assert return_sentence(info, TODAY, language="es") == expected
