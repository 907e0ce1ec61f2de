"""Spanish at the phone menu: spoken numbers, yes or no, and the menu's intents, with or without accents."""

from __future__ import annotations

import pytest

from bench.speech import menu_intents
from ivr.speech import OFF_MENU, is_yes, match_intent, spoken_digits, yes_no
from ivr.tree import DEFAULT_TREE, load_tree


@pytest.mark.parametrize(
    "heard, digits",
    [
        ("uno uno dos, cuatro cuatro cinco", "112445"),
        ("Uno, uno, dos. Cuatro, cuatro, cinco, cinco, seis, seis, siete.", "1124455667"),
        ("doble cinco", "55"),
        ("triple cero", "000"),
        ("cero", "0"),
        ("once", "11"),
        ("veinte", "20"),
        ("veintidós", "22"),
        ("veintidos", "22"),
        ("treinta y cinco", "35"),
        ("ciento doce", "112"),
        ("cien", "100"),
        ("quinientos cincuenta y cinco", "555"),
        ("mil", "1000"),
        ("dos mil veinticuatro", "2024"),
        ("Mi número de pedido es 112-4455667-1234567.", "11244556671234567"),
        ("uno uno dos guion cuatro cuatro", "11244"),
        ("Este, uno, dos, tres", "123"),
    ],
)
def test_spanish_spoken_numbers_become_the_digits_the_caller_meant(heard: str, digits: str) -> None:
    number = spoken_digits(heard, language="es")
    assert number.digits == digits
    assert number.complete


def test_a_spanish_number_amid_other_words_is_not_complete() -> None:
    number = spoken_digits("uno dos tres y luego no me acuerdo", language="es")
    assert number.digits == "123"
    assert not number.complete


def test_o_is_or_in_spanish_not_zero() -> None:
    assert spoken_digits("uno o dos", language="es").digits == "12"
    assert spoken_digits("one oh two").digits == "102"


def test_english_numbers_are_read_as_before_whatever_the_language_default() -> None:
    assert spoken_digits("one one two") == spoken_digits("one one two", language="en")


@pytest.mark.parametrize(
    "heard, answer",
    [
        ("Sí.", True),
        ("si", True),
        ("Claro.", True),
        ("Correcto.", True),
        ("Eso es.", True),
        ("Sí, por favor.", True),
        ("Así es.", True),
        ("No.", False),
        ("No es.", False),
        ("Otro.", False),
        ("Ese no.", False),
        ("No es correcto.", False),
        ("Claro que no.", False),
        ("No, eso no es.", False),
        ("No sé.", None),
        ("Tal vez.", None),
        ("¿Qué?", None),
        ("Sí, no.", None),
        ("", None),
    ],
)
def test_yes_and_no_are_heard_the_ways_spanish_speakers_say_them(heard: str, answer: bool | None) -> None:
    assert is_yes(heard, language="es") is answer


def test_yes_no_passes_the_language_on_and_keys_mean_the_same_in_any_language() -> None:
    assert yes_no(None, "claro", language="es") is True
    assert yes_no(None, "claro") is None  # not an English word for yes
    assert yes_no("2", "sí", language="es") is False


@pytest.mark.parametrize(
    "heard, intent",
    [
        ("¿Dónde está mi paquete?", "track"),
        ("donde esta mi paquete", "track"),  # a recogniser that drops accents
        ("DÓNDE ESTÁ MI PEDIDO", "track"),
        ("Quiero hablar con una persona.", "agent"),
        ("Mi pedido llegó roto.", "damaged"),
        ("mi pedido llego roto", "damaged"),
        ("Mi paquete nunca llegó.", "missing"),
        ("Me mandaron la talla equivocada.", "wrong_item"),
        ("Ya debería haber llegado.", "late"),
        ("Quiero un reembolso.", "returns"),
        ("Quiero cambiar mi dirección.", OFF_MENU),
        ("Bueno?", None),
    ],
)
def test_spanish_callers_reach_the_menus_choices(heard: str, intent: str | None) -> None:
    matched = match_intent(heard, menu_intents("es"), language="es")
    assert (matched.name if matched else None) == intent


def test_a_speech_tag_such_as_es_us_reads_as_spanish() -> None:
    assert match_intent("¿Dónde está mi paquete?", menu_intents("es"), language="es-US") == match_intent(
        "¿Dónde está mi paquete?", menu_intents("es"), language="es"
    )


def test_spanish_phrases_come_from_the_menu_not_the_code() -> None:
    menu = {"envoltura": ["envolver para regalo"], "agent": ["agente"]}
    matched = match_intent("Quiero envolverlo para regalo", menu, language="es")
    assert matched is not None and matched.name == "envoltura"
    assert match_intent("Quiero envolverlo para regalo", {"agent": ["agente"]}, language="es") is None


@pytest.mark.parametrize(
    "heard, intent",
    [
        # English shop words inside Spanish.
        ("Quiero trackear mi package.", "track"),
        ("Quiero hacer un refund.", "returns"),
        ("¿Cuál es el status de mi pedido?", "track"),
        ("Mi package llegó damaged.", "damaged"),
        ("Me mandaron el wrong producto.", "wrong_item"),
        ("Mi paquete está delayed.", "late"),
        # A problem told by the form of the sentence.
        ("Pedí una taza roja y me mandaron una azul.", "wrong_item"),
        ("Compré seis vasos y nomás llegaron cuatro.", "wrong_item"),
        ("Le falta una parte a mi pedido.", "wrong_item"),
        ("La licuadora está defectuosa, no prende.", "damaged"),
        ("La aplicación dice que lo entregaron pero no tengo nada.", "missing"),
        ("Lo dejaron en la casa del vecino.", "missing"),
        ("Me robaron la caja de la entrada.", "missing"),
        ("Se lo dieron a otro cliente.", "missing"),
        ("Llevamos tres semanas esperando.", "late"),
        ("Me prometieron que para el jueves y nada.", "late"),
        ("Me enviaron la talla que no era.", "wrong_item"),
        ("Me faltan tres piezas del pedido.", "wrong_item"),
        ("El refrigerador se descompuso.", "damaged"),
        ("Quiero revisar mi envío.", "track"),
        ("Me mandaron el paquete de otro cliente.", "wrong_item"),
        ("Estos zapatos no son míos.", "wrong_item"),
        ("Mi orden ya tenía que haber llegado.", "late"),
        ("Me prometieron que llegaba el lunes y nada.", "late"),
        ("El paquete está atorado en la bodega.", "late"),
        # Greetings are not "tarde" (late).
        ("Buenas tardes, quiero rastrear mi pedido.", "track"),
        ("Compré unas botas y quiero saber si ya las mandaron.", "track"),
        # The shop's other business.
        ("¿A qué hora abren mañana?", OFF_MENU),
        ("¿Cuánto saldo tiene mi tarjeta de regalo?", OFF_MENU),
        ("Mi cupón no funciona.", OFF_MENU),
        ("¿Venden baterías para el control?", OFF_MENU),
        ("¿Hacen envíos a Puerto Rico?", OFF_MENU),
        ("¿Tienen vacantes?", OFF_MENU),
        ("Una pregunta de facturación.", OFF_MENU),
    ],
)
def test_spanish_problems_spanglish_and_other_business(heard: str, intent: str) -> None:
    matched = match_intent(heard, menu_intents("es"), language="es")
    assert matched is not None and matched.name == intent


@pytest.mark.parametrize(
    "heard",
    [
        "Apúrate, que ya es tarde.",
        "Perdón, número equivocado.",
        "Buenas noches.",
        "Estoy hablando por teléfono, ahorita no.",
        "¿Quién habla?",
        "Ahorita te devuelvo la llamada.",
        "Estoy saliendo del trabajo.",
    ],
)
def test_spanish_talk_that_sounds_like_a_problem_is_noise(heard: str) -> None:
    assert match_intent(heard, menu_intents("es"), language="es") is None


@pytest.mark.parametrize(
    "heard, intent",
    [
        # Darle seguimiento, si ya viene en camino.
        ("Nomás quería darle seguimiento a mi pedido.", "track"),
        ("Oiga, quería preguntar por mi pedido, ¿ya lo mandaron?", "track"),
        ("¿Mi paquete ya viene en camino?", "track"),
        # "Le hablo porque ..." is why the caller calls, not a request to talk to someone.
        ("Buenas tardes, le hablo porque quiero saber dónde está mi paquete.", "track"),
        # Robado, firmado por alguien más, por ningún lado.
        ("Alguien se robó mi paquete de la entrada.", "missing"),
        ("Dice que lo firmó alguien pero aquí nadie firmó.", "missing"),
        ("No encuentro mi paquete por ningún lado y dice entregado.", "missing"),
        # Despostillado, mojado, echado a perder.
        ("Las tazas llegaron despostilladas.", "damaged"),
        ("La caja llegó toda mojada.", "damaged"),
        ("La mesa se tambalea.", "damaged"),
        ("La caja llegó vacía.", "wrong_item"),
        # No querer una máquina; "pásame con" in the familiar form, an agent in English.
        ("No me quiero comunicar con una grabación, quiero una persona.", "agent"),
        ("Pásame con un agent por favor.", "agent"),
        ("Quiero hablar con alguien.", "agent"),
    ],
)
def test_spanish_more_kinds_of_requests_and_problems(heard: str, intent: str) -> None:
    matched = match_intent(heard, menu_intents("es"), language="es")
    assert matched is not None and matched.name == intent


@pytest.mark.parametrize(
    "heard",
    [
        "Mañana devuelves los libros a la biblioteca, ¿eh?",
        "Pon la canción número tres.",
        "¿Ya llegó tu hermano?",
        "Ya voy en camino, te veo allá.",
        "Mijo, ¿pediste la pizza?",
        "No encuentro mis llaves.",
        "No tengo las llaves.",
        "Regreso de vacaciones la próxima semana.",
        "¿Puedo regresar al menú principal?",
        "Tengo que devolver el carro a la renta a las cinco.",
        "¿Dónde pusiste la caja?",
        "Me robaron la cartera en el metro.",
        "Ve a devolverle el plato a la vecina.",
        "Mañana te regreso el dinero que me prestaste.",
        "Pon las cosas en orden.",
    ],
)
def test_spanish_shop_words_in_household_talk_are_never_sent_to_a_lookup(heard: str) -> None:
    assert match_intent(heard, menu_intents("es"), language="es") is None


def test_spanish_a_question_about_the_product_or_shipping_costs_reaches_a_person() -> None:
    for heard in ("¿La camisa la tienen en talla mediana?", "¿Cuánto cuesta el envío a México?"):
        matched = match_intent(heard, menu_intents("es"), language="es")
        assert matched is not None and matched.name == OFF_MENU, heard


def test_spanish_a_denied_find_or_have_is_a_missing_parcel_when_it_is_about_the_parcel() -> None:
    for heard in ("No encuentro mi paquete.", "No lo tengo todavía.", "Nunca me llegó mi pedido."):
        matched = match_intent(heard, menu_intents("es"), language="es")
        assert matched is not None and matched.name == "missing", heard


@pytest.mark.parametrize(
    "heard, intent",
    [
        # Falta una pieza que no es el paquete: un pedido incompleto, como los demás artículos equivocados.
        ("en la caja faltaban los tornillos", "wrong_item"),
        ("me llegó todo pero falta la tapa", "wrong_item"),
        # ... y si lo que falta es el paquete, se perdió.
        ("dice entregado y falta el paquete", "missing"),
        # El día en que debía llegar, y que ya pasó.
        ("el envío estaba programado para el martes y todavía nada", "late"),
        ("la entrega era para ayer y no ha llegado", "late"),
        # Hacer un pedido nuevo es otro asunto de la tienda.
        ("quisiera realizar una compra", OFF_MENU),
        ("¿puedo hacer otro pedido por teléfono?", OFF_MENU),
        # Un reembolso que tarda es para devoluciones, no un pedido retrasado.
        ("mi reembolso ya se está tardando mucho", "returns"),
    ],
)
def test_spanish_an_incomplete_order_a_date_gone_by_and_a_new_order(heard: str, intent: str) -> None:
    matched = match_intent(heard, menu_intents("es"), language="es")
    assert matched is not None and matched.name == intent


@pytest.mark.parametrize(
    "heard, intent",
    [
        # Una pregunta tras un saludo o una muletilla sigue siendo pregunta; "ya viene" pregunta si llega.
        ("oiga, ¿ya viene mi paquete?", "track"),
        ("oye ya vienen mis cosas?", "track"),
        ("viene tarde mi pedido", "late"),
        # La caja vacía, dicha en cualquier orden.
        ("me llegó vacía la caja", "wrong_item"),
        ("vino vacío el paquete", "wrong_item"),
    ],
)
def test_spanish_a_question_after_a_greeting_and_an_empty_box_in_any_order(heard: str, intent: str) -> None:
    matched = match_intent(heard, menu_intents("es"), language="es")
    assert matched is not None and matched.name == intent


def _offer_choices() -> dict[str, tuple[str, ...]]:
    """The busy offer's choices in Spanish, as ivr.handover matches them."""
    intents = load_tree(DEFAULT_TREE).intents_in("es")
    return {name: intents[name] for name in ("call_back", "other_number", "hold", "agent")}


@pytest.mark.parametrize(
    "heard",
    [
        "Que me llamen, por favor.",
        "que me llamen por favor",
        "Llámenme por favor.",
        "Prefiero que me llamen, por favor.",
        "¿Me pueden llamar por favor?",
        "Llámeme más tarde.",
        "Que me devuelvan la llamada por favor.",
    ],
)
def test_spanish_asking_to_be_called_back_is_a_callback_whatever_follows_the_verb(heard: str) -> None:
    # "Llamo por mi pedido" (why I call) drops its words; "que me llamen por favor" (call me) must not.
    matched = match_intent(heard, _offer_choices(), language="es")
    assert matched is not None and matched.name == "call_back", heard


@pytest.mark.parametrize(
    "heard", ["Llamo por mi pedido.", "Llamaba por mi pedido.", "Hola, le llamo por lo de mi pedido."]
)
def test_spanish_calling_about_an_order_is_still_tracking_it(heard: str) -> None:
    matched = match_intent(heard, menu_intents("es"), language="es")
    assert matched is not None and matched.name == "track", heard


def test_spanish_to_be_called_later_is_no_late_delivery() -> None:
    matched = match_intent("Llámeme más tarde, por favor.", menu_intents("es"), language="es")
    assert matched is None or matched.name != "late"
