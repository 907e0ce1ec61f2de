"""The phone tree as data: its typed model, the YAML loader, and a checker that reports every problem at once."""

from __future__ import annotations

import re
import string
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, TypeAlias

import yaml

from recordings.prompts import NAME_RULE, PROMPT_NAME

DEFAULT_TREE = Path(__file__).with_name("default_tree.yaml")
FORMAT_VERSION = 1

# The names of agents.service.DEFAULT_QUEUES, repeated here so the tree model needs no database;
# a unit test keeps the two lists in step.
DEFAULT_QUEUE_NAMES: tuple[str, ...] = ("orders", "returns", "payments", "account", "devices", "other")

# Intents the engine itself listens for (the answers to a busy line's or a closed line's offer, and the
# way back to the start from anywhere); a tree that leaves one out gets the default tree's phrases for it.
MAIN_MENU = "main_menu"
ENGINE_INTENTS = ("call_back", "hold", "message", "other_number", MAIN_MENU)
# The key that takes the caller back to the start, where a menu gives it no option of its own.
MAIN_MENU_DIGIT = "*"

# An option's goto may name one of these instead of a node; the engine gives them their meaning.
REPEAT = "@repeat"
SPECIAL_TARGETS = frozenset({REPEAT})

LOOKUP_KINDS = ("order", "return")
# Not "#": it is <Gather>'s default finishOnKey, so pressing it submits an empty answer instead of a digit.
MENU_DIGITS = "0123456789*"
LIMIT_RANGE = range(1, 6)
# Twilio's <Gather hints> is a comma-separated list of at most 500 entries of at most 100 characters.
MAX_HINTS = 500
MAX_HINT_LENGTH = 100
# Node names travel in webhook URLs and session logs, so they stay plain.
NODE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
# A tree language's own name, the key of `languages:` and of every per-language text: en, es, pt-BR.
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
# The language of a tree that names none: the app's callers spoke English before the tree had languages.
DEFAULT_LANGUAGE = "en"


class TreeError(Exception):
    """A phone tree that cannot be used, with every problem found; each names its node and field."""

    def __init__(self, problems: Iterable[str], source: str = "<tree>") -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = source
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{source}: the phone tree has {len(self.problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class Text:
    """Words said to the caller, in every language of the tree; str() gives the default language's."""

    # (language, words) pairs, the tree's default language first; the checker makes sure every
    # language of the tree is here, so a call in any of them never falls silent.
    words: tuple[tuple[str, str], ...]

    def in_language(self, language: str) -> str:
        """The words in `language`, or in the default language when the tree has none in it."""
        return next((words for code, words in self.words if code == language), self.words[0][1])

    def __str__(self) -> str:
        return self.words[0][1]


@dataclass(frozen=True)
class Locale:
    """One language the tree speaks: its code, Twilio's <Say> voice, and the tag for speech recognition."""

    code: str
    voice: str | None = None
    # The language tag for <Say language> and <Gather language>, e.g. es-US; None: Twilio's default.
    speech: str | None = None


# Phrases by language (an intent's, or a node's hints): the default language's first.
Phrases: TypeAlias = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Limits:
    """How many times a node re-prompts after silence (no_input) or an unusable answer (no_match)."""

    no_input: int = 2
    no_match: int = 2


@dataclass(frozen=True)
class Option:
    """One choice of a menu: a key to press, an intent to say, and where it leads (a node or "@repeat").

    An option without a digit is chosen by speech only (a problem the caller describes, say); an option
    with a language switches the call to it before going on (the menu's "para español, oprima 9")."""

    digit: str | None
    intent: str
    goto: str
    language: str | None = None


@dataclass(frozen=True)
class MenuNode:
    """A question answered by one key or by speech matched to the options' intents."""

    kind: ClassVar[str] = "menu"
    name: str
    prompt: Text
    reprompt: Text
    options: tuple[Option, ...]
    fallback: str
    # None: the hints are every phrase of the options' intents (see Tree.hints).
    hints: Phrases | None = None
    # The shop's recording of `prompt` (a prompt name), played instead of saying it when it exists.
    play: str | None = None
    # Said after silence (the reprompt is for an answer that could not be used); None: the reprompt.
    silence: Text | None = None

    def option_for_digit(self, digit: str) -> Option | None:
        """The option a key press chooses, if any."""
        return next((option for option in self.options if option.digit == digit), None)

    def option_for_intent(self, intent: str) -> Option | None:
        """The option a recognised intent chooses, if any."""
        return next((option for option in self.options if option.intent == intent), None)


@dataclass(frozen=True)
class LookupNode:
    """Ask for an order or return number, look it up and read the answer out."""

    kind: ClassVar[str] = "lookup"
    name: str
    lookup: str
    prompt: Text
    reprompt: Text
    found: str
    fallback: str
    topic: str
    recognise_caller: bool = False
    # None: no hints from the tree; the engine may add its own for spoken numbers.
    hints: Phrases | None = None
    play: str | None = None
    # Said after silence (the reprompt is for an answer that could not be used); None: the reprompt.
    silence: Text | None = None


@dataclass(frozen=True)
class TransferNode:
    """Hand the caller to a queue's agents (or a callback), after an optional sentence."""

    kind: ClassVar[str] = "transfer"
    name: str
    queue: str
    prompt: Text | None = None
    # Said on the way to the agent, where no recording is played (a `say` node before it can play one).
    play: ClassVar[None] = None


@dataclass(frozen=True)
class HangupNode:
    """Say goodbye and end the call."""

    kind: ClassVar[str] = "hangup"
    name: str
    prompt: Text
    play: str | None = None


@dataclass(frozen=True)
class SayNode:
    """Say a message, then go straight on to another node."""

    kind: ClassVar[str] = "say"
    name: str
    prompt: Text
    next: str
    play: str | None = None


Node: TypeAlias = MenuNode | LookupNode | TransferNode | HangupNode | SayNode


@dataclass(frozen=True)
class Tree:
    """A checked phone tree: every goto names a node, every node is reachable and leads somewhere."""

    version: int
    greeting: Text
    start: str
    limits: Limits
    # Intent -> phrases by language (see intents_in).
    phrases: Mapping[str, Phrases]
    nodes: Mapping[str, Node]
    # The languages callers can hear, the default first; a tree without `languages:` has one.
    locales: tuple[Locale, ...] = (Locale(DEFAULT_LANGUAGE),)
    # The sentences the engine says between the nodes' prompts, by key (see the tree file's `texts:`).
    texts: Mapping[str, Text] = field(default_factory=lambda: MappingProxyType({}))
    source: str = "<tree>"
    # The shop's recording of the greeting (a prompt name), played instead of saying it when it exists.
    greeting_play: str | None = None

    @property
    def languages(self) -> tuple[str, ...]:
        """The codes of the tree's languages, the default first."""
        return tuple(locale.code for locale in self.locales)

    @property
    def default_language(self) -> str:
        """The language a call starts in."""
        return self.locales[0].code

    def locale(self, language: str | None = None) -> Locale:
        """A language's voice and speech tag; the default language's for None or an unknown code."""
        return next((locale for locale in self.locales if locale.code == language), self.locales[0])

    @property
    def voice(self) -> str | None:
        """The default language's <Say> voice."""
        return self.locales[0].voice

    @property
    def language(self) -> str | None:
        """The default language's speech tag."""
        return self.locales[0].speech

    @property
    def intents(self) -> Mapping[str, tuple[str, ...]]:
        """Intent name -> its phrases in the default language."""
        return self.intents_in(self.default_language)

    def intents_in(self, language: str) -> Mapping[str, tuple[str, ...]]:
        """Intent name -> its phrases in `language` (an intent with none there is left out)."""
        return MappingProxyType(
            {name: phrases[language] for name, phrases in self.phrases.items() if phrases.get(language)}
        )

    def text(self, key: str, language: str | None = None, **values: object) -> str:
        """One of the engine's sentences (`texts:`) in `language`, its {placeholders} filled in."""
        try:
            text = self.texts[key]
        except KeyError:
            raise KeyError(f"the phone tree {self.source} has no text called {key!r}") from None
        words = text.in_language(language or self.default_language)
        return words.format(**values) if values else words

    @property
    def start_node(self) -> Node:
        """The node every call begins at, after the greeting."""
        return self.node(self.start)

    def label(self, name: str) -> str:
        """A node as staff read it on the screen pop ("Main menu", "Order lookup", "To the orders team"),
        not its name in the file; a node no longer in the tree keeps its name."""
        node = self.nodes.get(name)
        if isinstance(node, MenuNode):
            return "Main menu" if name == self.start else f"Menu: {name.replace('_', ' ')}"
        if isinstance(node, LookupNode):
            return f"{node.lookup.capitalize()} lookup"
        if isinstance(node, TransferNode):
            return f"To the {node.queue} team"
        if isinstance(node, HangupNode):
            return "Goodbye"
        return name.replace("_", " ").capitalize()

    def node(self, name: str) -> Node:
        """The node called `name`; KeyError names it if there is none."""
        try:
            return self.nodes[name]
        except KeyError:
            raise KeyError(f"the phone tree {self.source} has no node called {name!r}") from None

    def prompt_uses(self) -> tuple[tuple[str, str], ...]:
        """Every prompt the tree plays, as (where, prompt name): for `ivr check` to find missing ones."""
        uses: list[tuple[str, str]] = []
        if self.greeting_play:
            uses.append(("greeting_play", self.greeting_play))
        for name, node in self.nodes.items():
            if node.play:
                uses.append((f"node {name!r}, play", node.play))
        return tuple(uses)

    def hints(self, node: Node | str, language: str | None = None) -> tuple[str, ...]:
        """The speech hints for a node's <Gather> in `language` (default: the tree's): its own, else
        every phrase of its options' intents."""
        if isinstance(node, str):
            node = self.node(node)
        language = language or self.default_language
        if isinstance(node, MenuNode | LookupNode) and node.hints is not None:
            return node.hints.get(language, ())
        if not isinstance(node, MenuNode):
            return ()
        intents = self.intents_in(language)
        phrases: list[str] = []
        seen: set[str] = set()
        for option in node.options:
            for phrase in intents.get(option.intent, ()):
                if phrase.casefold() not in seen:
                    seen.add(phrase.casefold())
                    phrases.append(phrase)
        return tuple(phrases)


def load_tree(path: str | Path, queues: Iterable[str] | None = None) -> Tree:
    """Read and check a phone tree file; TreeError lists every problem found."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise TreeError([f"cannot read the file: {error.strerror or error}"], source) from error
    except UnicodeDecodeError as error:
        raise TreeError([f"the file is not UTF-8 text: {error}"], source) from error
    data, duplicates = _read_yaml(text, source)
    # The default tree is where the engine's texts come from: it cannot borrow them from itself.
    defaults = {} if Path(path).resolve() == DEFAULT_TREE.resolve() else _default_tree_data()
    return _Checker(source, queues, duplicates, defaults).check(data)


def parse_tree(mapping: Any, source: str = "<tree>", queues: Iterable[str] | None = None) -> Tree:
    """Check an already-parsed tree (a mapping like the YAML file's); TreeError lists every problem."""
    return _Checker(source, queues, [], _default_tree_data()).check(mapping)


@cache
def _default_tree_data() -> Mapping[str, Any]:
    """The default tree as written: the engine's texts and intents, for trees that leave some out."""
    data, _ = _read_yaml(DEFAULT_TREE.read_text(encoding="utf-8"), str(DEFAULT_TREE))
    return MappingProxyType(dict(data)) if isinstance(data, Mapping) else MappingProxyType({})


def _read_yaml(text: str, source: str) -> tuple[Any, list[str]]:
    """The YAML document in `text`, and the duplicate keys noted while reading it."""
    loader = _Loader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    except yaml.YAMLError as error:
        raise TreeError([f"not valid YAML: {error}"], source) from error
    finally:
        loader.dispose()


def tree_from_settings(path: str | None, queues: Iterable[str] | None = None) -> Tree:
    """The tree the app runs: the IVR_TREE file, or the default tree when it is unset or empty."""
    return load_tree(path or DEFAULT_TREE, queues)


# libyaml's parser when PyYAML was built with it (the wheels are): the same documents and errors, read
# ten times faster than the pure-Python parser, which was most of create_app's time and of every
# process start.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """A safe YAML loader that notes duplicate keys, which PyYAML would otherwise drop silently."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    # A second `main:` would quietly replace the first: an operator must hear about it.
    first_line: dict[Any, int] = {}
    for key_node, _value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys merged in with `<<: *anchor` may be overridden: that is what merging is for
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, Hashable):
            if key in first_line:
                loader.duplicates.append(
                    f"line {line}: {key!r} appears twice in the same mapping (first on line {first_line[key]}); "
                    "only the last one would count"
                )
            else:
                first_line[key] = line
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# Each node type's fields: (required, optional). "type" is required everywhere.
_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "menu": (("prompt", "reprompt", "options", "fallback"), ("silence", "play", "hints")),
    "lookup": (
        ("lookup", "prompt", "reprompt", "found", "fallback", "topic"),
        ("silence", "play", "recognise_caller", "hints"),
    ),
    "transfer": (("queue",), ("prompt",)),
    "hangup": (("prompt",), ("play",)),
    "say": (("prompt", "next"), ("play",)),
}
_TERMINAL_TYPES = frozenset({"transfer", "hangup"})
_TOP_FIELDS = (
    "version",
    "languages",
    "greeting",
    "greeting_play",
    "voice",
    "language",
    "limits",
    "start",
    "intents",
    "texts",
    "nodes",
)
_TOP_REQUIRED = ("version", "greeting", "start", "intents", "nodes")
_OPTION_FIELDS = ("digit", "intent", "goto", "language")
_LANGUAGE_FIELDS = ("voice", "speech")
_MISSING = object()


def _describe(value: Any) -> str:
    """A value's kind in words, for messages."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        # YAML 1.1 reads yes/no/on/off as booleans, the classic surprise in hand-written files.
        return f"{str(value).lower()} (YAML reads yes/no/on/off as true/false: put the word in quotes)"
    names = {dict: "a mapping", list: "a list", int: "a number", float: "a number", str: "text"}
    return names.get(type(value), type(value).__name__)


class _Checker:
    """One pass over a tree's data that builds the typed tree and collects every problem on the way."""

    def __init__(
        self, source: str, queues: Iterable[str] | None, problems: list[str], defaults: Mapping[str, Any]
    ) -> None:
        self.source = source
        # The default tree as written: its texts and engine intents stand in for any this tree leaves out.
        self.defaults = defaults
        self.queues = frozenset(DEFAULT_QUEUE_NAMES if queues is None else queues)
        self.problems = list(problems)
        self.intents: dict[str, dict[str, tuple[str, ...]]] = {}
        # The tree's language codes, the default first (read before any text that may be per language).
        self.languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)
        self.node_names: frozenset[str] = frozenset()
        # name -> (type, targets that name a node); for the reachability and dead-end checks.
        self.edges: dict[str, tuple[str | None, list[str]]] = {}
        # Nodes whose way out could not be read: already reported, so not blamed again as dead ends.
        self.incomplete: set[str] = set()

    def problem(self, where: str, message: str) -> None:
        """Note one problem."""
        self.problems.append(f"{where}: {message}")

    def check(self, data: Any) -> Tree:
        """Build the tree from `data`, or raise TreeError with every problem."""
        if not isinstance(data, Mapping):
            self.problems.append(
                f"the tree must be a mapping of fields (version, greeting, ...), not {_describe(data)}"
            )
            raise TreeError(self.problems, self.source)
        for key in data:
            if key not in _TOP_FIELDS:
                self.problem(str(key), f"unknown field (a tree has: {', '.join(_TOP_FIELDS)})")
        for key in _TOP_REQUIRED:
            if key not in data:
                self.problem(key, "missing required field")

        version = data.get("version", _MISSING)
        if version is not _MISSING and (isinstance(version, bool) or version != FORMAT_VERSION):
            self.problem("version", f"this app reads version {FORMAT_VERSION}, not {version!r}")
        locales = self.read_languages(data)
        self.languages = tuple(locale.code for locale in locales)
        greeting = self.words(data, "greeting", "greeting", required=False)
        greeting_play = self.play(data, "greeting_play", "greeting_play")
        limits = self.limits(data.get("limits", _MISSING))
        self.intents = self.read_intents(data.get("intents", _MISSING))
        texts = self.read_texts(data.get("texts", _MISSING))

        raw_nodes = data.get("nodes", _MISSING)
        if raw_nodes is not _MISSING and not (isinstance(raw_nodes, Mapping) and raw_nodes):
            self.problem("nodes", f"must be a mapping of node names to nodes, not {_describe(raw_nodes)}")
        raw_nodes = raw_nodes if isinstance(raw_nodes, Mapping) else {}
        self.node_names = frozenset(name for name in raw_nodes if isinstance(name, str))

        start = data.get("start", _MISSING)
        start_ok = False
        if start is not _MISSING:
            if not isinstance(start, str):
                self.problem("start", f"must be a node name, not {_describe(start)}")
            elif start not in self.node_names:
                self.problem("start", f"there is no node called {start!r}")
            else:
                start_ok = True

        nodes: dict[str, Node] = {}
        for name, raw in raw_nodes.items():
            node = self.node(name, raw)
            if node is not None:
                nodes[node.name] = node

        if start_ok:
            self.check_reachable(str(start))
        self.check_dead_ends()

        if self.problems:
            raise TreeError(self.problems, self.source)
        assert greeting is not None and isinstance(version, int) and isinstance(start, str)  # checked above
        return Tree(
            version=version,
            greeting=greeting,
            start=start,
            limits=limits,
            phrases=MappingProxyType({name: MappingProxyType(by) for name, by in self.intents.items()}),
            nodes=MappingProxyType(nodes),
            locales=locales,
            texts=MappingProxyType(texts),
            source=self.source,
            greeting_play=greeting_play,
        )

    # --- fields -------------------------------------------------------------------------------------

    def text(self, raw: Mapping[str, Any], key: str, where: str, required: bool = True) -> str | None:
        """A non-empty text field, or None after noting why it is unusable."""
        value = raw.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(where, "missing required field")
            return None
        if not isinstance(value, str):
            self.problem(where, f"must be text, not {_describe(value)}")
            return None
        if not value.strip():
            self.problem(where, "is empty")
            return None
        return value.strip()

    def read_languages(self, data: Mapping[str, Any]) -> tuple[Locale, ...]:
        """The tree's languages: `languages:`, or the one the old top-level voice and language describe."""
        raw = data.get("languages", _MISSING)
        if raw is _MISSING:
            voice = self.text(data, "voice", "voice", required=False)
            tag = self.speech_tag(data, "language", "language")
            # en-US -> en: the code texts and intents are keyed by, were they ever given per language.
            code = tag.split("-")[0].lower() if tag else DEFAULT_LANGUAGE
            return (Locale(code, voice, tag),)
        for key in ("voice", "language"):
            if key in data:
                self.problem(key, "with `languages:`, each language has its own voice and speech tag there")
        if not isinstance(raw, Mapping) or not raw:
            self.problem(
                "languages",
                "must be a mapping of language codes to settings, like "
                f"{{en: {{voice: Polly.Joanna, speech: en-US}}}}, not {_describe(raw)}",
            )
            return (Locale(DEFAULT_LANGUAGE),)
        locales: list[Locale] = []
        for code, settings in raw.items():
            where = f"languages.{code}"
            if not isinstance(code, str) or not LANGUAGE_CODE.fullmatch(code):
                self.problem("languages", f"{code!r} is not a language code like en, es or pt-BR")
                continue
            if settings is None:
                settings = {}
            if not isinstance(settings, Mapping):
                self.problem(where, f"must be a mapping like {{voice: ..., speech: ...}}, not {_describe(settings)}")
                settings = {}
            for key in settings:
                if key not in _LANGUAGE_FIELDS:
                    self.problem(f"{where}.{key}", f"unknown field (a language has: {', '.join(_LANGUAGE_FIELDS)})")
            voice = self.text(settings, "voice", f"{where}.voice", required=False)
            tag = self.speech_tag(settings, "speech", f"{where}.speech")
            locales.append(Locale(code, voice, tag))
        return tuple(locales) or (Locale(DEFAULT_LANGUAGE),)

    def speech_tag(self, raw: Mapping[str, Any], key: str, where: str) -> str | None:
        """An optional language tag for Twilio (en-US, es-US)."""
        tag = self.text(raw, key, where, required=False)
        if tag is not None and not LANGUAGE_TAG.fullmatch(tag):
            self.problem(where, f"{tag!r} is not a language tag like en-US")
            return None
        return tag

    def words(self, raw: Mapping[str, Any], key: str, where: str, required: bool = True) -> Text | None:
        """Words said to callers: text in the default language, or {language: text} for each of the
        tree's languages; None after noting why they are unusable."""
        value = raw.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(where, "missing required field")
            return None
        if isinstance(value, str):
            value = {self.languages[0]: value}
        elif not isinstance(value, Mapping):
            self.problem(where, f"must be text, or a mapping like {{en: ..., es: ...}}, not {_describe(value)}")
            return None
        before = len(self.problems)
        by_language: dict[str, str] = {}
        for code, words in value.items():
            at = where if len(value) == 1 and code == self.languages[0] else f"{where}.{code}"
            if code not in self.languages:
                self.problem(where, f"{code!r} is not one of the tree's languages ({', '.join(self.languages)})")
            elif not isinstance(words, str):
                self.problem(at, f"must be text, not {_describe(words)}")
            elif not words.strip():
                self.problem(at, "is empty")
            else:
                by_language[code] = " ".join(words.split())
        # A caller who chose a language must never meet a silence where a sentence should be.
        missing = [code for code in self.languages if code not in value]
        if missing:
            self.problem(where, f"missing in {', '.join(missing)} (the tree speaks {', '.join(self.languages)})")
        if len(self.problems) != before:
            return None
        return Text(tuple((code, by_language[code]) for code in self.languages))

    def read_texts(self, raw: Any) -> dict[str, Text]:
        """The engine's sentences by key, each in every language with the same {placeholders}."""
        if raw is _MISSING:
            raw = {}
        if not isinstance(raw, Mapping):
            self.problem("texts", f"must be a mapping of keys to sentences, not {_describe(raw)}")
            return {}
        texts: dict[str, Text] = {}
        for key in raw:
            texts.update(self.one_text(raw, key, f"texts.{key}"))
        defaults = self.defaults.get("texts")
        for key, value in (defaults if isinstance(defaults, Mapping) else {}).items():
            if key not in texts and key not in raw:
                # Only the languages this tree speaks: a missing one is named as this tree's problem.
                own = (
                    {code: words for code, words in value.items() if code in self.languages}
                    if isinstance(value, Mapping)
                    else value
                )
                texts.update(self.one_text({key: own}, key, f"texts.{key} (not in this tree; the default tree's)"))
        return texts

    def one_text(self, raw: Mapping[str, Any], key: str, where: str) -> dict[str, Text]:
        """One of the engine's sentences, {key: text}, or nothing after noting its problems."""
        text = self.words(raw, key, where)
        if text is None:
            return {}
        names: dict[str, frozenset[str]] = {}
        for code, words in text.words:
            try:
                names[code] = frozenset(name for _, name, _, _ in string.Formatter().parse(words) if name)
            except ValueError as error:
                self.problem(f"{where}.{code}", f"{error}: write {{name}} for a value, {{{{ or }}}} for a brace")
        if len(set(names.values())) > 1:
            # Filled in by name at run time: a placeholder only one language has would fail there.
            shown = "; ".join(f"{code}: {', '.join(sorted(n)) or 'none'}" for code, n in names.items())
            self.problem(where, f"the languages name different {{placeholders}} ({shown})")
        elif len(names) == len(text.words):
            return {str(key): text}
        return {}

    def play(self, raw: Mapping[str, Any], key: str, where: str) -> str | None:
        """An optional prompt name to play instead of the sentence beside it (required: it is the fallback)."""
        value = raw.get(key, _MISSING)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not PROMPT_NAME.fullmatch(value):
            shown = repr(value) if isinstance(value, str) else _describe(value)
            self.problem(where, f"{shown} is not a prompt name. {NAME_RULE}")
            return None
        return value

    def phrases_by_language(self, value: Any, where: str) -> dict[str, tuple[str, ...]] | None:
        """Phrases in the default language (a list), or {language: list} in some of the tree's languages."""
        if isinstance(value, list):
            phrases = self.phrases(value, where)
            return None if phrases is None else {self.languages[0]: phrases}
        if not isinstance(value, Mapping) or not value:
            self.problem(
                where, f"must be a list of phrases or a mapping like {{en: [...], es: [...]}}, not {_describe(value)}"
            )
            return None
        result: dict[str, tuple[str, ...]] = {}
        for code, phrases in value.items():
            if code not in self.languages:
                self.problem(where, f"{code!r} is not one of the tree's languages ({', '.join(self.languages)})")
                continue
            found = self.phrases(phrases, f"{where}.{code}")
            if found is not None:
                result[code] = found
        return result

    def phrases(self, value: Any, where: str) -> tuple[str, ...] | None:
        """A non-empty list of phrases usable as speech hints, or None after noting why not."""
        if not isinstance(value, list) or not value:
            self.problem(where, f"must be a list of phrases, not {_describe(value)}")
            return None
        result: list[str] = []
        for index, phrase in enumerate(value):
            at = f"{where}[{index}]"
            if not isinstance(phrase, str):
                self.problem(at, f"must be text, not {_describe(phrase)}")
            elif not phrase.strip():
                self.problem(at, "is empty")
            elif "," in phrase:
                self.problem(at, f"{phrase!r} contains a comma, which Twilio's hints use to separate phrases")
            elif len(phrase) > MAX_HINT_LENGTH:
                self.problem(at, f"is longer than Twilio's {MAX_HINT_LENGTH}-character limit for a hint")
            else:
                result.append(" ".join(phrase.split()))
        return tuple(result)

    def limits(self, raw: Any) -> Limits:
        """The re-prompt limits, each a whole number in LIMIT_RANGE."""
        if raw is _MISSING:
            return Limits()
        if not isinstance(raw, Mapping):
            self.problem("limits", f"must be a mapping like {{no_input: 2, no_match: 2}}, not {_describe(raw)}")
            return Limits()
        values: dict[str, int] = {}
        for key, value in raw.items():
            if key not in ("no_input", "no_match"):
                self.problem(f"limits.{key}", "unknown field (limits has: no_input, no_match)")
            elif isinstance(value, bool) or not isinstance(value, int) or value not in LIMIT_RANGE:
                # Zero would transfer at the first cough; more than five keeps a caller going round in circles.
                self.problem(
                    f"limits.{key}",
                    f"must be a whole number from {LIMIT_RANGE.start} to {LIMIT_RANGE.stop - 1}, not {value!r}",
                )
            else:
                values[key] = value
        return Limits(**values)

    def read_intents(self, raw: Any) -> dict[str, dict[str, tuple[str, ...]]]:
        """Intent names and their phrases by language; in one language a phrase belongs to one intent."""
        if raw is _MISSING:
            return {}
        if not isinstance(raw, Mapping):
            self.problem("intents", f"must be a mapping of intent names to phrases, not {_describe(raw)}")
            return {}
        intents: dict[str, dict[str, tuple[str, ...]]] = {}
        owner: dict[tuple[str, str], str] = {}
        for name, value in raw.items():
            if not isinstance(name, str) or not name.strip():
                self.problem("intents", f"an intent name must be text, not {_describe(name)}")
                continue
            by_language = self.phrases_by_language(value, f"intent {name!r}")
            if by_language is None:
                continue
            for code, phrases in by_language.items():
                for phrase in phrases:
                    key = (code, phrase.casefold())
                    if key in owner and owner[key] != name:
                        # Speech matching could not tell which one the caller meant.
                        self.problem(f"intent {name!r}", f"the phrase {phrase!r} also belongs to intent {owner[key]!r}")
                    owner.setdefault(key, name)
                by_language[code] = tuple(dict.fromkeys(phrases))
            intents[name] = by_language
        defaults = self.defaults.get("intents")
        for name in ENGINE_INTENTS:
            value = defaults.get(name) if isinstance(defaults, Mapping) and name not in raw else None
            if not isinstance(value, Mapping):
                continue
            # In the languages this tree speaks, without the phrases it gives its own intents.
            inherited = {
                code: tuple(p for p in phrases if (code, p.casefold()) not in owner)
                for code, phrases in value.items()
                if code in self.languages and isinstance(phrases, list)
            }
            intents[name] = {code: phrases for code, phrases in inherited.items() if phrases}
        return intents

    def target(self, raw: Mapping[str, Any], key: str, where: str, node: str, targets: list[str]) -> str | None:
        """A field naming the node to go to next; special targets are for options only."""
        value = raw.get(key, _MISSING)
        if value is _MISSING:
            self.problem(where, "missing required field")
        elif not isinstance(value, str):
            self.problem(where, f"must be a node name, not {_describe(value)}")
        elif value in self.node_names:
            targets.append(value)
            return value
        elif value in SPECIAL_TARGETS and key == "goto":
            return value
        elif value in SPECIAL_TARGETS:
            self.problem(where, f"{value!r} can only be an option's goto; {key} must name a node")
        else:
            self.problem(where, f"there is no node called {value!r}")
        self.incomplete.add(node)
        return None

    def queue(self, raw: Mapping[str, Any], key: str, where: str) -> str | None:
        """A field naming one of the known queues."""
        value = self.text(raw, key, where)
        if value is not None and value not in self.queues:
            self.problem(where, f"there is no queue called {value!r} (queues: {', '.join(sorted(self.queues))})")
            return None
        return value

    def check_reprompt(self, prompt: Text | None, reprompt: Text | None, where: str, field: str = "reprompt") -> None:
        """A reprompt (or the words after silence) must not repeat the prompt word for word, in any language."""
        # A caller who did not follow the first wording needs another one, not the same one louder.
        if prompt is None or reprompt is None:
            return
        for code in self.languages:
            if prompt.in_language(code) == reprompt.in_language(code):
                at = f"{where}, {field}" if len(self.languages) == 1 else f"{where}, {field}.{code}"
                self.problem(at, "is the same as the prompt: say it another way")

    def optional_hints(self, raw: Mapping[str, Any], where: str) -> Phrases | None:
        """A node's own hints, if it gives any (by language, like an intent's phrases)."""
        if "hints" not in raw:
            return None
        hints = self.phrases_by_language(raw["hints"], f"{where}, hints")
        for code, phrases in (hints or {}).items():
            if len(phrases) > MAX_HINTS:
                at = f"{where}, hints" if len(self.languages) == 1 else f"{where}, hints.{code}"
                self.problem(at, f"Twilio takes at most {MAX_HINTS} hints, not {len(phrases)}")
        return None if hints is None else MappingProxyType(hints)

    # --- nodes --------------------------------------------------------------------------------------

    def node(self, name: Any, raw: Any) -> Node | None:
        """One node, checked field by field; None when it has problems."""
        if not isinstance(name, str):
            self.problem("nodes", f"a node name must be text, not {_describe(name)}")
            return None
        where = f"node {name!r}"
        targets: list[str] = []
        self.edges[name] = (None, targets)
        if not NODE_NAME.fullmatch(name):
            self.problem(where, "a node name is a letter, then letters, digits, _ or - (at most 64)")
        if not isinstance(raw, Mapping):
            self.problem(where, f"must be a mapping with a type, not {_describe(raw)}")
            self.incomplete.add(name)
            return None
        kind = raw.get("type", _MISSING)
        if kind is _MISSING:
            self.problem(where, f"missing required field 'type' ({', '.join(_FIELDS)})")
            self.incomplete.add(name)
            return None
        if kind not in _FIELDS:
            self.problem(f"{where}, type", f"unknown node type {kind!r} (types: {', '.join(_FIELDS)})")
            self.incomplete.add(name)
            return None
        self.edges[name] = (kind, targets)
        required, optional = _FIELDS[kind]
        for key in raw:
            if key != "type" and key not in required and key not in optional:
                allowed = ", ".join(("type", *required, *optional))
                self.problem(f"{where}, {key}", f"unknown field for a {kind} node (a {kind} has: {allowed})")

        before = len(self.problems)
        node: Node | None
        if kind == "menu":
            node = self.menu(name, raw, where, targets)
        elif kind == "lookup":
            node = self.lookup(name, raw, where, targets)
        elif kind == "transfer":
            queue = self.queue(raw, "queue", f"{where}, queue")
            prompt = self.words(raw, "prompt", f"{where}, prompt", required=False)
            node = TransferNode(name, queue, prompt) if queue else None
        elif kind == "hangup":
            prompt = self.words(raw, "prompt", f"{where}, prompt")
            play = self.play(raw, "play", f"{where}, play")
            node = HangupNode(name, prompt, play) if prompt else None
        else:
            prompt = self.words(raw, "prompt", f"{where}, prompt")
            play = self.play(raw, "play", f"{where}, play")
            following = self.target(raw, "next", f"{where}, next", name, targets)
            node = SayNode(name, prompt, following, play) if prompt and following else None
        return node if len(self.problems) == before else None

    def menu(self, name: str, raw: Mapping[str, Any], where: str, targets: list[str]) -> MenuNode | None:
        """A menu node and its options."""
        prompt = self.words(raw, "prompt", f"{where}, prompt")
        reprompt = self.words(raw, "reprompt", f"{where}, reprompt")
        options = self.options(name, raw.get("options", _MISSING), where, targets)
        fallback = self.target(raw, "fallback", f"{where}, fallback", name, targets)
        hints = self.optional_hints(raw, where)
        play = self.play(raw, "play", f"{where}, play")
        silence = self.words(raw, "silence", f"{where}, silence", required=False)
        self.check_reprompt(prompt, reprompt, where)
        self.check_reprompt(prompt, silence, where, "silence")
        if prompt is None or reprompt is None or options is None or fallback is None:
            return None
        return MenuNode(name, prompt, reprompt, options, fallback, hints, play, silence)

    def options(self, name: str, raw: Any, where: str, targets: list[str]) -> tuple[Option, ...] | None:
        """A menu's options: distinct keys, distinct known intents, each going somewhere."""
        if raw is _MISSING:
            self.problem(f"{where}, options", "missing required field")
            self.incomplete.add(name)
            return None
        if not isinstance(raw, list) or not raw:
            self.problem(f"{where}, options", "dead end: a menu needs at least one option")
            self.incomplete.add(name)
            return None
        options: list[Option] = []
        digits: dict[str, int] = {}
        intents: dict[str, int] = {}
        for index, item in enumerate(raw):
            at = f"{where}, options[{index}]"
            if not isinstance(item, Mapping):
                self.problem(at, f"must be a mapping with digit, intent and goto, not {_describe(item)}")
                self.incomplete.add(name)
                continue
            for key in item:
                if key not in _OPTION_FIELDS:
                    self.problem(f"{at}.{key}", f"unknown field (an option has: {', '.join(_OPTION_FIELDS)})")
            # No digit: the option is chosen by speech only (a problem the caller describes in words).
            raw_digit = item.get("digit", _MISSING)
            digit = None if raw_digit is _MISSING else self.digit(raw_digit, f"{at}.digit")
            if digit is not None:
                if digit in digits:
                    self.problem(f"{at}.digit", f"key {digit!r} is already used by options[{digits[digit]}]")
                digits.setdefault(digit, index)
            intent = self.text(item, "intent", f"{at}.intent")
            if intent is not None:
                if intent not in self.intents:
                    self.problem(f"{at}.intent", f"there is no intent called {intent!r} under intents")
                elif intent in intents:
                    self.problem(f"{at}.intent", f"intent {intent!r} is already used by options[{intents[intent]}]")
                intents.setdefault(intent, index)
            language = item.get("language")
            if language is not None and language not in self.languages:
                self.problem(
                    f"{at}.language", f"{language!r} is not one of the tree's languages ({', '.join(self.languages)})"
                )
            goto = self.target(item, "goto", f"{at}.goto", name, targets)
            if (digit is not None or raw_digit is _MISSING) and intent is not None and goto is not None:
                options.append(Option(digit, intent, goto, language if language in self.languages else None))
        return tuple(options)

    def digit(self, value: Any, where: str) -> str | None:
        """A menu key: one of MENU_DIGITS; a bare YAML number 0-9 is accepted as its digit."""
        if value is _MISSING:
            self.problem(where, "missing required field")
            return None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
            return str(value)
        if isinstance(value, str) and len(value) == 1 and value in MENU_DIGITS:
            return value
        self.problem(where, f"must be one key: 0-9 or * (# ends input on Twilio), not {value!r}")
        return None

    def lookup(self, name: str, raw: Mapping[str, Any], where: str, targets: list[str]) -> LookupNode | None:
        """A lookup node."""
        kind = raw.get("lookup", _MISSING)
        if kind is _MISSING:
            self.problem(f"{where}, lookup", "missing required field")
        elif kind not in LOOKUP_KINDS:
            self.problem(f"{where}, lookup", f"must be one of {', '.join(LOOKUP_KINDS)}, not {kind!r}")
        prompt = self.words(raw, "prompt", f"{where}, prompt")
        reprompt = self.words(raw, "reprompt", f"{where}, reprompt")
        found = self.target(raw, "found", f"{where}, found", name, targets)
        fallback = self.target(raw, "fallback", f"{where}, fallback", name, targets)
        topic = self.queue(raw, "topic", f"{where}, topic")
        recognise = raw.get("recognise_caller", False)
        if not isinstance(recognise, bool):
            self.problem(f"{where}, recognise_caller", f"must be true or false, not {recognise!r}")
        hints = self.optional_hints(raw, where)
        play = self.play(raw, "play", f"{where}, play")
        silence = self.words(raw, "silence", f"{where}, silence", required=False)
        self.check_reprompt(prompt, reprompt, where)
        self.check_reprompt(prompt, silence, where, "silence")
        if kind not in LOOKUP_KINDS or None in (prompt, reprompt, found, fallback, topic):
            return None
        assert prompt and reprompt and found and fallback and topic  # narrowed for mypy
        return LookupNode(
            name, str(kind), prompt, reprompt, found, fallback, topic, recognise is True, hints, play, silence
        )

    # --- the graph ----------------------------------------------------------------------------------

    def check_reachable(self, start: str) -> None:
        """Every node must be reachable from the start node."""
        seen = {start}
        pending = [start]
        while pending:
            for target in self.edges.get(pending.pop(), (None, []))[1]:
                if target not in seen:
                    seen.add(target)
                    pending.append(target)
        if seen & self.incomplete:
            # A way out that could not be read (a mistyped goto, say) was probably meant for the nodes
            # that now look unreachable; blaming them too would bury the real mistake.
            return
        for name in self.edges:
            if name not in seen:
                self.problem(f"node {name!r}", f"unreachable: no path from the start node {start!r} leads here")

    def check_dead_ends(self) -> None:
        """From every node some path must reach a transfer or a hangup, or the caller goes round forever."""
        # Nodes already reported as broken count as ends, so one mistake is not reported many times over.
        done = {name for name, (kind, _) in self.edges.items() if kind in _TERMINAL_TYPES} | self.incomplete
        changed = True
        while changed:
            changed = False
            for name, (_kind, targets) in self.edges.items():
                if name not in done and any(target in done for target in targets):
                    done.add(name)
                    changed = True
        for name in self.edges:
            if name not in done:
                self.problem(f"node {name!r}", "dead end: no path from here reaches a transfer or a hangup")
