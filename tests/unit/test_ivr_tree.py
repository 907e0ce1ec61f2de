"""The phone tree: the default tree loads clean, and the checker reports each kind of mistake by node and field."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from ivr.tree import (
    DEFAULT_QUEUE_NAMES,
    DEFAULT_TREE,
    REPEAT,
    HangupNode,
    Limits,
    LookupNode,
    MenuNode,
    Option,
    SayNode,
    Text,
    TransferNode,
    Tree,
    TreeError,
    load_tree,
    parse_tree,
    tree_from_settings,
)

Raw = dict[str, Any]


def en(words: str) -> Text:
    """Words of a single-language (English) tree."""
    return Text((("en", words),))


def small_tree() -> Raw:
    """A valid tree with one node of every type, each reachable and leading somewhere."""
    return {
        "version": 1,
        "greeting": "Hello.",
        "start": "main",
        "intents": {"track": ["track my order"], "agent": ["agent", "a person"], "bye": ["goodbye"]},
        "nodes": {
            "main": {
                "type": "menu",
                "prompt": "Press 1 to track an order, or 0 for a person.",
                "reprompt": "Sorry. Say track my order, or press 0 for a person.",
                "options": [
                    {"digit": "1", "intent": "track", "goto": "find"},
                    {"digit": "0", "intent": "agent", "goto": "person"},
                    {"digit": "9", "intent": "bye", "goto": "bye"},
                ],
                "fallback": "person",
            },
            "find": {
                "type": "lookup",
                "lookup": "order",
                "prompt": "Key in your order number.",
                "reprompt": "Sorry, I could not find it. Key it in again.",
                "found": "info",
                "fallback": "person",
                "topic": "orders",
            },
            "info": {"type": "say", "prompt": "That is all I know.", "next": "bye"},
            "person": {"type": "transfer", "queue": "orders"},
            "bye": {"type": "hangup", "prompt": "Goodbye."},
        },
    }


def problems_of(raw: Any, **kwargs: Any) -> list[str]:
    """The problems the checker finds in `raw` (which must have some)."""
    with pytest.raises(TreeError) as caught:
        parse_tree(raw, **kwargs)
    return list(caught.value.problems)


# --- the default tree ---------------------------------------------------------------------------------


def test_the_default_tree_loads_and_checks_clean() -> None:
    tree = load_tree(DEFAULT_TREE)

    assert tree.start == "main"
    assert str(tree.greeting) == "Thanks for calling Callme Shop."
    assert tree.voice == "Polly.Joanna"
    assert tree.limits == Limits(no_input=2, no_match=2)
    assert set(tree.nodes) == {
        "main",
        "track_order",
        "after_order",
        "return_status",
        "after_return",
        "problem_report",
        "agent_orders",
        "agent_returns",
        "goodbye",
    }


def test_the_default_main_menu_offers_tracking_returns_and_a_person() -> None:
    main = load_tree(DEFAULT_TREE).node("main")

    assert isinstance(main, MenuNode)
    assert [(o.digit, o.intent, o.goto) for o in main.options if o.digit and not o.language] == [
        ("1", "track", "track_order"),
        ("2", "returns", "return_status"),
        ("0", "agent", "agent_orders"),
    ]
    assert main.option_for_digit("2") == Option("2", "returns", "return_status")
    assert main.option_for_intent("agent") == Option("0", "agent", "agent_orders")
    assert main.option_for_digit("7") is None


def test_the_default_main_menu_and_lookups_fall_back_to_a_person_never_a_hangup() -> None:
    tree = load_tree(DEFAULT_TREE)
    lookups = [node for node in tree.nodes.values() if isinstance(node, LookupNode)]

    assert {(n.name, n.lookup, n.topic) for n in lookups} == {
        ("track_order", "order", "orders"),
        ("return_status", "return", "returns"),
    }
    main = tree.node("main")
    for node in [*lookups, main]:
        assert isinstance(node, MenuNode | LookupNode)
        assert isinstance(tree.node(node.fallback), TransferNode)


def test_the_default_tree_recognises_callers_when_tracking_and_repeats_answers() -> None:
    tree = load_tree(DEFAULT_TREE)
    track = tree.node("track_order")
    after = tree.node("after_order")

    assert isinstance(track, LookupNode) and track.recognise_caller is True
    assert isinstance(after, MenuNode) and after.option_for_digit("1") == Option("1", "repeat", REPEAT)


def test_the_default_tree_understands_what_people_actually_say() -> None:
    intents = load_tree(DEFAULT_TREE).intents

    assert "where's my package" in intents["track"]
    assert "I want to check on my refund" in intents["returns"]
    assert "representative" in intents["agent"]


def test_default_queue_names_match_the_queues_the_app_creates() -> None:
    from agents.service import DEFAULT_QUEUES

    assert DEFAULT_QUEUE_NAMES == tuple(name for name, _display in DEFAULT_QUEUES)


def test_tree_from_settings_uses_the_default_file_when_unset(tmp_path: Path) -> None:
    assert set(tree_from_settings(None).nodes) == set(load_tree(DEFAULT_TREE).nodes)
    assert set(tree_from_settings("").nodes) == set(load_tree(DEFAULT_TREE).nodes)

    own = tmp_path / "tree.yaml"
    own.write_text(
        "version: 1\ngreeting: Hi.\nstart: bye\nintents: {}\nnodes:\n  bye: {type: hangup, prompt: Bye.}\n",
        encoding="utf-8",
    )
    assert tree_from_settings(str(own)).nodes == {"bye": HangupNode("bye", en("Bye."))}


# --- the model ----------------------------------------------------------------------------------------


def test_a_small_tree_builds_one_typed_node_of_each_kind() -> None:
    tree = parse_tree(small_tree(), source="small")

    assert isinstance(tree, Tree) and tree.source == "small" and tree.limits == Limits()
    assert tree.node("find") == LookupNode(
        "find",
        "order",
        en("Key in your order number."),
        en("Sorry, I could not find it. Key it in again."),
        "info",
        "person",
        "orders",
    )
    assert tree.node("info") == SayNode("info", en("That is all I know."), "bye")
    assert tree.node("person") == TransferNode("person", "orders", None)
    assert tree.start_node is tree.node("main")
    assert [node.kind for node in tree.nodes.values()] == ["menu", "lookup", "say", "transfer", "hangup"]


def test_asking_for_an_unknown_node_names_it() -> None:
    with pytest.raises(KeyError, match="nowhere"):
        parse_tree(small_tree()).node("nowhere")


def test_menu_hints_default_to_the_phrases_of_its_options_intents() -> None:
    tree = parse_tree(small_tree())

    assert tree.hints("main") == ("track my order", "agent", "a person", "goodbye")
    assert tree.hints(tree.node("find")) == ()
    assert tree.hints("person") == ()


def test_a_nodes_own_hints_replace_the_default_ones() -> None:
    raw = small_tree()
    raw["nodes"]["main"]["hints"] = ["track", "representative"]
    raw["nodes"]["find"]["hints"] = ["$OOV_CLASS_DIGIT_SEQUENCE"]
    tree = parse_tree(raw)

    assert tree.hints("main") == ("track", "representative")
    assert tree.hints("find") == ("$OOV_CLASS_DIGIT_SEQUENCE",)


def test_bare_yaml_numbers_are_accepted_as_menu_digits() -> None:
    raw = small_tree()
    raw["nodes"]["main"]["options"][1]["digit"] = 0
    menu = parse_tree(raw).node("main")

    assert isinstance(menu, MenuNode) and menu.option_for_digit("0") is not None


def test_queue_names_can_be_given_instead_of_the_defaults() -> None:
    raw = small_tree()
    raw["nodes"]["person"]["queue"] = "sales"

    assert parse_tree(raw, queues=["sales", "orders"]).node("person") == TransferNode("person", "sales")
    assert problems_of(raw, queues=["orders"]) == [
        "node 'person', queue: there is no queue called 'sales' (queues: orders)"
    ]


def test_the_tree_cannot_be_changed_once_checked() -> None:
    tree = parse_tree(small_tree())

    with pytest.raises(TypeError):
        tree.nodes["main"] = tree.nodes["bye"]  # type: ignore[index]


# --- each kind of problem, one minimal broken tree at a time -----------------------------------------


def set_(path: str, value: Any) -> Callable[[Raw], None]:
    """A change that sets the value at a dotted path (list indexes as numbers)."""

    def change(raw: Raw) -> None:
        *parents, last = path.split(".")
        target: Any = raw
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def delete(path: str) -> Callable[[Raw], None]:
    """A change that removes the field at a dotted path."""

    def change(raw: Raw) -> None:
        *parents, last = path.split(".")
        target: Any = raw
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        del target[last]

    return change


def add_nodes(**nodes: Raw) -> Callable[[Raw], None]:
    """A change that adds (or replaces) nodes."""
    return lambda raw: raw["nodes"].update(nodes)


BROKEN: list[tuple[str, Callable[[Raw], None], list[str]]] = [
    (
        "unknown node type",
        set_("nodes.info.type", "speak"),
        ["node 'info', type: unknown node type 'speak' (types: menu, lookup, transfer, hangup, say)"],
    ),
    (
        "missing type",
        delete("nodes.info.type"),
        ["node 'info': missing required field 'type' (menu, lookup, transfer, hangup, say)"],
    ),
    ("missing required field", delete("nodes.find.reprompt"), ["node 'find', reprompt: missing required field"]),
    ("missing say next", delete("nodes.info.next"), ["node 'info', next: missing required field"]),
    ("missing top-level field", delete("greeting"), ["greeting: missing required field"]),
    (
        "unknown field",
        set_("nodes.bye.promt", "Bye."),
        ["node 'bye', promt: unknown field for a hangup node (a hangup has: type, prompt, play)"],
    ),
    (
        "goto to an unknown node",
        set_("nodes.main.options.1.goto", "persn"),
        ["node 'main', options[1].goto: there is no node called 'persn'"],
    ),
    (
        "fallback to an unknown node",
        set_("nodes.find.fallback", "nobody"),
        ["node 'find', fallback: there is no node called 'nobody'"],
    ),
    ("start at an unknown node", set_("start", "menu"), ["start: there is no node called 'menu'"]),
    (
        "@repeat outside an option",
        set_("nodes.info.next", "@repeat"),
        ["node 'info', next: '@repeat' can only be an option's goto; next must name a node"],
    ),
    (
        "duplicate digit in a menu",
        set_("nodes.main.options.2.digit", "1"),
        ["node 'main', options[2].digit: key '1' is already used by options[0]"],
    ),
    (
        "a key Twilio cannot deliver",
        set_("nodes.main.options.2.digit", "#"),
        ["node 'main', options[2].digit: must be one key: 0-9 or * (# ends input on Twilio), not '#'"],
    ),
    (
        "option intent not in intents",
        set_("nodes.main.options.0.intent", "tracking"),
        ["node 'main', options[0].intent: there is no intent called 'tracking' under intents"],
    ),
    (
        "the same intent for two options",
        set_("nodes.main.options.2.intent", "agent"),
        ["node 'main', options[2].intent: intent 'agent' is already used by options[1]"],
    ),
    (
        "unknown queue name",
        set_("nodes.person.queue", "sales"),
        [
            "node 'person', queue: there is no queue called 'sales' "
            "(queues: account, devices, orders, other, payments, returns)"
        ],
    ),
    (
        "unknown lookup topic",
        set_("nodes.find.topic", "shipping"),
        [
            "node 'find', topic: there is no queue called 'shipping' "
            "(queues: account, devices, orders, other, payments, returns)"
        ],
    ),
    (
        "unknown lookup kind",
        set_("nodes.find.lookup", "invoice"),
        ["node 'find', lookup: must be one of order, return, not 'invoice'"],
    ),
    (
        "a menu with no options is a dead end",
        add_nodes(
            info={"type": "say", "prompt": "Hm.", "next": "empty"},
            empty={
                "type": "menu",
                "prompt": "Choose.",
                "reprompt": "Choose, please.",
                "options": [],
                "fallback": "bye",
            },
        ),
        ["node 'empty', options: dead end: a menu needs at least one option"],
    ),
    (
        "say nodes going round in a circle are dead ends",
        add_nodes(
            info={"type": "say", "prompt": "One.", "next": "again"},
            again={"type": "say", "prompt": "Two.", "next": "info"},
        ),
        [
            "node 'info': dead end: no path from here reaches a transfer or a hangup",
            "node 'again': dead end: no path from here reaches a transfer or a hangup",
        ],
    ),
    (
        "a menu that only leads back to itself is a dead end",
        add_nodes(
            info={"type": "say", "prompt": "One.", "next": "loop"},
            loop={
                "type": "menu",
                "prompt": "Press 1 to hear this again.",
                "reprompt": "Say repeat to hear this again.",
                "options": [{"digit": "1", "intent": "track", "goto": "@repeat"}],
                "fallback": "loop",
            },
        ),
        [
            "node 'info': dead end: no path from here reaches a transfer or a hangup",
            "node 'loop': dead end: no path from here reaches a transfer or a hangup",
        ],
    ),
    (
        "unreachable node",
        add_nodes(orphan={"type": "hangup", "prompt": "Nobody hears this."}),
        ["node 'orphan': unreachable: no path from the start node 'main' leads here"],
    ),
    (
        "no_input limit too low",
        set_("limits", {"no_input": 0}),
        ["limits.no_input: must be a whole number from 1 to 5, not 0"],
    ),
    (
        "no_match limit too high",
        set_("limits", {"no_input": 2, "no_match": 9}),
        ["limits.no_match: must be a whole number from 1 to 5, not 9"],
    ),
    (
        "limit that is not a number",
        set_("limits", {"no_match": "two"}),
        ["limits.no_match: must be a whole number from 1 to 5, not 'two'"],
    ),
    (
        "unknown limit",
        set_("limits", {"no_speech": 2}),
        ["limits.no_speech: unknown field (limits has: no_input, no_match)"],
    ),
    ("empty prompt", set_("nodes.bye.prompt", "   "), ["node 'bye', prompt: is empty"]),
    ("empty transfer prompt", set_("nodes.person.prompt", ""), ["node 'person', prompt: is empty"]),
    ("empty greeting", set_("greeting", ""), ["greeting: is empty"]),
    (
        "reprompt that repeats the prompt",
        set_("nodes.find.reprompt", "Key in your order number."),
        ["node 'find', reprompt: is the same as the prompt: say it another way"],
    ),
    ("unsupported version", set_("version", 2), ["version: this app reads version 1, not 2"]),
    (
        "a phrase in two intents",
        set_("intents.bye", ["goodbye", "agent"]),
        ["intent 'bye': the phrase 'agent' also belongs to intent 'agent'"],
    ),
    (
        "a phrase with a comma",
        set_("intents.bye", ["bye, thanks"]),
        ["intent 'bye'[0]: 'bye, thanks' contains a comma, which Twilio's hints use to separate phrases"],
    ),
    (
        "a bare yes read as true",
        set_("nodes.main.options.2.intent", True),
        [
            "node 'main', options[2].intent: must be text, not true "
            "(YAML reads yes/no/on/off as true/false: put the word in quotes)"
        ],
    ),
    (
        "recognise_caller that is not true or false",
        set_("nodes.find.recognise_caller", "sometimes"),
        ["node 'find', recognise_caller: must be true or false, not 'sometimes'"],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in BROKEN], ids=[name for name, _, _ in BROKEN])
def test_each_kind_of_problem_is_reported_by_node_and_field(change: Callable[[Raw], None], expected: list[str]) -> None:
    raw = small_tree()
    change(raw)

    assert problems_of(raw) == expected


def test_every_problem_is_reported_at_once() -> None:
    # Breaks in different places of the tree, so none hides another.
    chosen = [
        "unknown field",
        "missing required field",
        "unreachable node",
        "duplicate digit in a menu",
        "unknown queue name",
        "say nodes going round in a circle are dead ends",
        "no_match limit too high",
        "empty greeting",
        "a phrase with a comma",
    ]
    cases = {name: (change, expected) for name, change, expected in BROKEN}
    raw = small_tree()
    for name in chosen:
        cases[name][0](raw)

    problems = problems_of(raw)

    assert sorted(problems) == sorted(message for name in chosen for message in cases[name][1])


def test_nodes_cut_off_by_a_mistyped_goto_are_not_blamed_as_well() -> None:
    raw = small_tree()
    set_("nodes.main.options.0.goto", "fnd")(raw)

    # `find` and `info` are only reachable through that option; the typo is the one mistake to fix.
    assert problems_of(raw) == ["node 'main', options[0].goto: there is no node called 'fnd'"]


def test_the_error_message_lists_the_source_and_every_problem() -> None:
    raw = small_tree()
    set_("nodes.bye.prompt", "")(raw)
    set_("nodes.person.queue", "sales")(raw)
    with pytest.raises(TreeError) as caught:
        parse_tree(raw, source="shop.yaml")

    assert caught.value.source == "shop.yaml"
    assert str(caught.value).splitlines()[0] == "shop.yaml: the phone tree has 2 problem(s):"
    assert "  node 'bye', prompt: is empty" in str(caught.value).splitlines()


@pytest.mark.parametrize("data", [None, [], "menu"])
def test_a_tree_that_is_not_a_mapping_is_refused(data: Any) -> None:
    assert problems_of(data)[0].startswith("the tree must be a mapping of fields")


# --- the file -----------------------------------------------------------------------------------------


def test_a_node_defined_twice_in_the_file_is_reported_with_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "tree.yaml"
    path.write_text(
        "version: 1\ngreeting: Hi.\nstart: bye\nintents: {}\nnodes:\n"
        "  bye: {type: hangup, prompt: Bye.}\n"
        "  bye: {type: hangup, prompt: Goodbye.}\n",
        encoding="utf-8",
    )
    with pytest.raises(TreeError) as caught:
        load_tree(path)

    assert caught.value.problems == (
        "line 7: 'bye' appears twice in the same mapping (first on line 6); only the last one would count",
    )


def test_merge_keys_may_be_overridden_without_a_duplicate_warning(tmp_path: Path) -> None:
    path = tmp_path / "tree.yaml"
    path.write_text(
        "version: 1\ngreeting: Hi.\nstart: hello\nintents: {}\nnodes:\n"
        "  hello: &said {type: say, prompt: Hello., next: bye}\n"
        "  bye: {<<: *said, type: hangup, prompt: Bye.}\n",
        encoding="utf-8",
    )
    with pytest.raises(TreeError) as caught:
        load_tree(path)

    # The merged-in `next` is a real mistake for a hangup; the overridden `type` and `prompt` are not.
    assert caught.value.problems == (
        "node 'bye', next: unknown field for a hangup node (a hangup has: type, prompt, play)",
    )


def test_a_file_that_is_not_yaml_is_reported_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "tree.yaml"
    path.write_text("version: 1\nnodes: {main: [\n", encoding="utf-8")
    with pytest.raises(TreeError) as caught:
        load_tree(path)

    assert caught.value.problems[0].startswith("not valid YAML:")
    assert "line" in caught.value.problems[0]


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TreeError) as caught:
        load_tree(tmp_path / "nowhere.yaml")

    assert caught.value.problems == ("cannot read the file: No such file or directory",)


# --- flask ivr check ----------------------------------------------------------------------------------


@pytest.fixture
def cli_app(tmp_path: Path) -> Iterator[Flask]:
    """The app on an empty SQLite file (no schema yet), with the ivr commands registered."""
    import ivr.cli
    from app import create_app
    from core.db import get_db

    application = create_app({"app_env": "testing", "database_url": f"sqlite:///{tmp_path / 'cli.sqlite3'}"})
    ivr.cli.init_app(application)
    yield application
    get_db(application).engine.dispose()


def write_tree(path: Path, raw: Raw) -> Path:
    """Write a tree as YAML."""
    import yaml

    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def test_check_says_ok_for_the_default_tree(cli_app: Flask) -> None:
    result = cli_app.test_cli_runner().invoke(args=["ivr", "check", str(DEFAULT_TREE)])

    assert result.exit_code == 0, result.output
    assert result.output == "OK: 9 nodes, reachable from 'main', in en, es\n"


def test_check_prints_every_problem_on_its_own_line_and_fails(cli_app: Flask, tmp_path: Path) -> None:
    raw = small_tree()
    set_("nodes.bye.prompt", "")(raw)
    set_("nodes.main.options.0.goto", "nowhere")(raw)
    path = write_tree(tmp_path / "broken.yaml", raw)

    result = cli_app.test_cli_runner().invoke(args=["ivr", "check", str(path)])

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "node 'main', options[0].goto: there is no node called 'nowhere'",
        "node 'bye', prompt: is empty",
    ]


def test_check_reports_a_missing_file(cli_app: Flask, tmp_path: Path) -> None:
    result = cli_app.test_cli_runner().invoke(args=["ivr", "check", str(tmp_path / "missing.yaml")])

    assert result.exit_code == 1
    assert result.output == "cannot read the file: No such file or directory\n"


def test_check_accepts_queues_added_to_the_database(cli_app: Flask, tmp_path: Path) -> None:
    from agents.models import Queue
    from agents.service import ensure_default_queues
    from core.db import Base, get_db

    database = get_db(cli_app)
    Base.metadata.create_all(database.engine)
    with database.sessions() as session:
        ensure_default_queues(session, "+15005550006")
        session.add(Queue(name="sales", display_name="Sales", caller_id="+15005550006"))
        session.commit()
    raw = small_tree()
    set_("nodes.person.queue", "sales")(raw)
    path = write_tree(tmp_path / "sales.yaml", raw)

    result = cli_app.test_cli_runner().invoke(args=["ivr", "check", str(path)])

    assert result.exit_code == 0, result.output
    assert result.output == "OK: 5 nodes, reachable from 'main', in en\n"


# --- recorded prompts (play:) -------------------------------------------------------------------------


def test_a_node_and_the_greeting_may_name_a_prompt_to_play_beside_their_sentence() -> None:
    raw = small_tree()
    raw["greeting_play"] = "welcome"
    raw["nodes"]["main"]["play"] = "main-menu"
    raw["nodes"]["find"]["play"] = "ask_order"
    raw["nodes"]["info"]["play"] = "info"
    raw["nodes"]["bye"]["play"] = "bye"
    tree = parse_tree(raw)

    assert tree.greeting_play == "welcome" and str(tree.greeting) == "Hello."
    main = tree.node("main")
    assert isinstance(main, MenuNode) and main.play == "main-menu" and str(main.prompt).startswith("Press 1")
    assert tree.prompt_uses() == (
        ("greeting_play", "welcome"),
        ("node 'main', play", "main-menu"),
        ("node 'find', play", "ask_order"),
        ("node 'info', play", "info"),
        ("node 'bye', play", "bye"),
    )
    assert parse_tree(small_tree()).prompt_uses() == ()


def test_a_play_that_is_not_a_prompt_name_is_reported_where_it_is() -> None:
    raw = small_tree()
    raw["greeting_play"] = "Welcome Message"
    raw["nodes"]["bye"]["play"] = 3

    assert problems_of(raw) == [
        "greeting_play: 'Welcome Message' is not a prompt name. A prompt name is 1 to 64 lower-case letters, "
        "digits, - or _ (for example: greeting, hold-music).",
        "node 'bye', play: a number is not a prompt name. A prompt name is 1 to 64 lower-case letters, "
        "digits, - or _ (for example: greeting, hold-music).",
    ]


def test_a_play_needs_its_sentence_beside_it_as_the_fallback() -> None:
    raw = small_tree()
    raw["nodes"]["bye"] = {"type": "hangup", "play": "bye"}

    assert problems_of(raw) == ["node 'bye', prompt: missing required field"]


def test_a_transfer_cannot_play_a_prompt_its_words_are_said_on_the_way_to_the_agent() -> None:
    raw = small_tree()
    raw["nodes"]["person"]["play"] = "hold-on"

    assert problems_of(raw) == [
        "node 'person', play: unknown field for a transfer node (a transfer has: type, queue, prompt)"
    ]


# --- languages ------------------------------------------------------------------------------------------


def two_languages() -> Raw:
    """The small tree in English and Spanish: every sentence in both, the intents in both."""
    raw = small_tree()
    raw["languages"] = {
        "en": {"voice": "Polly.Joanna", "speech": "en-US"},
        "es": {"voice": "Polly.Lupe", "speech": "es-US"},
    }
    raw["greeting"] = {"en": "Hello.", "es": "Hola."}
    raw["intents"] = {
        "track": {"en": ["track my order"], "es": ["mi pedido"]},
        "agent": {"en": ["agent", "a person"], "es": ["una persona"]},
        "bye": ["goodbye"],
    }
    nodes = raw["nodes"]
    nodes["main"]["prompt"] = {"en": "Press 1 to track an order.", "es": "Oprima 1 para su pedido."}
    nodes["main"]["reprompt"] = {"en": "Sorry. Press 1 for an order.", "es": "Perdone. Oprima 1 para un pedido."}
    nodes["find"]["prompt"] = {"en": "Key in your order number.", "es": "Marque su número de pedido."}
    nodes["find"]["reprompt"] = {"en": "Key it in again.", "es": "Márquelo otra vez."}
    nodes["info"]["prompt"] = {"en": "That is all I know.", "es": "Eso es todo lo que sé."}
    nodes["bye"]["prompt"] = {"en": "Goodbye.", "es": "Adiós."}
    return raw


def test_the_default_tree_speaks_english_first_and_spanish() -> None:
    tree = load_tree(DEFAULT_TREE)

    assert tree.languages == ("en", "es")
    assert tree.locale("es").voice == "Polly.Lupe" and tree.locale("es").speech == "es-US"
    assert tree.locale("en").speech == "en-US" and tree.voice == "Polly.Joanna"
    assert tree.greeting.in_language("es") == "Gracias por llamar a Callme Shop."
    main = tree.node("main")
    assert isinstance(main, MenuNode) and "oprima 2" in main.prompt.in_language("es")


def test_a_tree_without_languages_speaks_the_one_its_voice_and_language_describe() -> None:
    raw = small_tree()
    raw["voice"], raw["language"] = "Polly.Lupe", "es-US"
    tree = parse_tree(raw)

    assert tree.languages == ("es",)
    assert tree.locale("es").voice == "Polly.Lupe" and tree.language == "es-US"
    assert tree.greeting.in_language("es") == "Hello."
    assert tree.intents_in("es")["track"] == ("track my order",)
    assert parse_tree(small_tree()).languages == ("en",)


def test_every_sentence_and_intent_can_be_given_per_language() -> None:
    tree = parse_tree(two_languages())
    main = tree.node("main")

    assert tree.languages == ("en", "es")
    assert isinstance(main, MenuNode)
    assert (
        main.prompt.in_language("es") == "Oprima 1 para su pedido." and str(main.prompt) == "Press 1 to track an order."
    )
    # A plain list is the default language's phrases; an intent with none in a language is keypad-only there.
    assert {name: tree.intents_in("es")[name] for name in ("track", "agent")} == {
        "track": ("mi pedido",),
        "agent": ("una persona",),
    }
    assert "bye" not in tree.intents_in("es")
    assert tree.intents_in("en")["bye"] == ("goodbye",) and tree.intents == tree.intents_in("en")
    assert tree.hints("main", "es") == ("mi pedido", "una persona")
    assert tree.hints("main") == ("track my order", "agent", "a person", "goodbye")


def test_a_sentence_missing_in_one_language_is_reported_with_its_node_field_and_language() -> None:
    raw = two_languages()
    raw["greeting"] = "Hello."  # text alone is the default language's only
    del raw["nodes"]["main"]["reprompt"]["es"]
    raw["nodes"]["person"]["prompt"] = {"en": "One moment.", "fr": "Un instant."}

    assert problems_of(raw) == [
        "greeting: missing in es (the tree speaks en, es)",
        "node 'main', reprompt: missing in es (the tree speaks en, es)",
        "node 'person', prompt: 'fr' is not one of the tree's languages (en, es)",
        "node 'person', prompt: missing in es (the tree speaks en, es)",
    ]


def test_language_mistakes_are_all_reported() -> None:
    raw = two_languages()
    raw["languages"]["EN_us"] = {"voice": "x"}
    raw["languages"]["es"]["speech"] = "es US"
    raw["languages"]["es"]["accent"] = "Mexico"
    raw["voice"] = "Polly.Joanna"
    raw["intents"]["agent"]["de"] = ["jemand"]
    raw["nodes"]["main"]["reprompt"]["es"] = "Oprima 1 para su pedido."
    raw["nodes"]["find"]["prompt"]["es"] = 7

    assert problems_of(raw) == [
        "voice: with `languages:`, each language has its own voice and speech tag there",
        "languages.es.accent: unknown field (a language has: voice, speech)",
        "languages.es.speech: 'es US' is not a language tag like en-US",
        "languages: 'EN_us' is not a language code like en, es or pt-BR",
        "intent 'agent': 'de' is not one of the tree's languages (en, es)",
        "node 'main', reprompt.es: is the same as the prompt: say it another way",
        "node 'find', prompt.es: must be text, not a number",
    ]


def test_one_phrase_may_mean_one_thing_per_language_but_different_things_in_different_ones() -> None:
    raw = two_languages()
    raw["intents"]["bye"] = {"en": ["goodbye", "no"], "es": ["adiós"]}
    raw["intents"]["agent"]["es"] = ["una persona", "no"]
    assert parse_tree(raw).intents_in("es")["agent"] == ("una persona", "no")

    raw["intents"]["track"]["es"] = ["mi pedido", "una persona"]
    assert problems_of(raw) == ["intent 'agent': the phrase 'una persona' also belongs to intent 'track'"]


def test_an_option_may_be_spoken_only_or_switch_the_language() -> None:
    raw = two_languages()
    raw["nodes"]["main"]["options"].append({"intent": "bye", "goto": "bye"})
    raw["nodes"]["main"]["options"][2] = {"digit": "9", "intent": "agent", "goto": "main", "language": "es"}
    del raw["nodes"]["main"]["options"][1]
    tree = parse_tree(raw)
    main = tree.node("main")

    assert isinstance(main, MenuNode)
    assert main.option_for_intent("bye") == Option(None, "bye", "bye")
    assert main.option_for_digit("9") == Option("9", "agent", "main", "es")

    raw["nodes"]["main"]["options"][1]["language"] = "fr"
    assert problems_of(raw) == ["node 'main', options[1].language: 'fr' is not one of the tree's languages (en, es)"]


def test_texts_fill_in_their_placeholders_in_the_callers_language() -> None:
    raw = two_languages()
    raw["texts"] = {"place": {"en": "You're number {position} in line.", "es": "Usted es el número {position}."}}
    tree = parse_tree(raw)

    assert tree.text("place", "es", position=3) == "Usted es el número 3."
    assert tree.text("place", position=2) == "You're number 2 in line."
    with pytest.raises(KeyError, match="no text called 'nothing'"):
        tree.text("nothing")


def test_a_text_whose_languages_name_different_placeholders_is_reported() -> None:
    raw = two_languages()
    raw["texts"] = {
        "place": {"en": "You're number {position} in line.", "es": "Usted es el número {posicion}."},
        "wait": {"en": "About {minutes} minutes.", "es": "Unos {minutes minutos."},
        "half": {"en": "Half."},
    }

    assert problems_of(raw) == [
        "texts.place: the languages name different {placeholders} (en: position; es: posicion)",
        "texts.wait.es: expected '}' before end of string: write {name} for a value, {{ or }} for a brace",
        "texts.half: missing in es (the tree speaks en, es)",
    ]


def test_a_menu_or_lookup_may_say_something_else_after_silence_but_not_the_prompt_again() -> None:
    raw = small_tree()
    raw["nodes"]["main"]["silence"] = "Are you still there? Press 1 to track an order."
    tree = parse_tree(raw)
    main = tree.node("main")
    assert isinstance(main, MenuNode) and main.silence == en("Are you still there? Press 1 to track an order.")
    find = tree.node("find")
    assert isinstance(find, LookupNode) and find.silence is None  # the reprompt is said after silence too

    raw["nodes"]["find"]["silence"] = "Key in your order number."
    assert problems_of(raw) == ["node 'find', silence: is the same as the prompt: say it another way"]


def test_a_tree_that_leaves_out_the_engines_texts_and_offer_intents_gets_the_default_trees() -> None:
    default = load_tree(DEFAULT_TREE)
    tree = parse_tree(small_tree())

    assert set(tree.texts) == set(default.texts)
    assert tree.text("place_in_line", position=3) == "You're number 3 in line."
    assert tree.intents_in("en")["call_back"] == default.intents_in("en")["call_back"]
    # Only in the tree's own languages.
    assert "es" not in {code for code, _ in tree.texts["place_in_line"].words}


def test_a_tree_may_reword_one_of_the_engines_texts() -> None:
    raw = small_tree()
    raw["texts"] = {"everyone_busy": "All our people are on calls."}
    tree = parse_tree(raw)

    assert tree.text("everyone_busy") == "All our people are on calls."
    assert tree.text("nobody_on_duty") == load_tree(DEFAULT_TREE).text("nobody_on_duty")


def test_a_tree_in_a_language_the_default_tree_lacks_must_give_every_text() -> None:
    raw = small_tree()
    raw["language"] = "fr-FR"
    raw["texts"] = {"everyone_busy": "Tout le monde est occupé."}
    problems = problems_of(raw)

    assert "texts.everyone_busy: missing in fr" not in " ".join(problems)
    assert "texts.nobody_on_duty (not in this tree; the default tree's): missing in fr (the tree speaks fr)" in problems
    assert len(problems) == len(load_tree(DEFAULT_TREE).texts) - 1


def test_every_text_of_the_default_tree_names_the_same_placeholders_in_english_and_spanish() -> None:
    tree = load_tree(DEFAULT_TREE)

    for key, text in tree.texts.items():
        assert [code for code, _ in text.words] == ["en", "es"], key
        assert text.in_language("en") != text.in_language("es") or key == "offer_declined", key


def test_check_names_the_node_field_and_language_a_sentence_is_missing_in(cli_app: Flask, tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_TREE.read_text(encoding="utf-8"))
    del raw["nodes"]["after_order"]["reprompt"]["es"]
    raw["texts"] = {"hold_thanks": {"en": "Thanks for waiting."}}
    path = tmp_path / "tree.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    result = cli_app.test_cli_runner().invoke(args=["ivr", "check", str(path)])

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "texts.hold_thanks: missing in es (the tree speaks en, es)",
        "node 'after_order', reprompt: missing in es (the tree speaks en, es)",
    ]
