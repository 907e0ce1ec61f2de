"""Speech understanding benchmark: how often the main menu takes callers where they meant to go.

Issue 9's goal: at least 97% of the measured phrasings right, and no noise sent to a lookup. The
phrasings are tests/data/ivr_phrasings/ (see its README): for each language a part used to tune the
matcher and a part only measured. Each phrasing is matched, as the flow does, against the default
tree's phrases for the main menu's choices and the problem reports, in its language:

    track, returns, agent                  the menu's choices
    missing, damaged, wrong_item, late     problem reports, for the orders team
    off_menu                               a request the menu does not offer: ivr.speech.OFF_MENU
    noise                                  fillers and background talk: no intent (None)

A phrasing is right when the matcher answers its label. Noise or an off-menu request answered with
track or returns is "sent to a lookup" (the caller is asked for an order number they never meant to
give), which the goal allows none of. The recogniser's Confidence is left out ("not reported").

A part may also have answers to the menu's other questions (`<part>_answers.yaml`, set D has them):
order numbers said in words or digits (right when the digits meant are read; "trusted wrong" when a
wrong reading would be trusted without reading it back, which the goal allows none of), return
references, yes / no / unclear answers, and requests for a moment. Their figures are printed after the
menu's and held to the same goal.

Run: .venv/bin/python bench/speech.py [--part measured|tune|blind_a|blind_b|blind_c|blind_d|blind_e] [--show-misses]
Exits 1 when a language's figures miss the goal.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr import speech  # noqa: E402
from ivr.tree import load_tree  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "ivr_phrasings"
TREE = ROOT / "ivr" / "default_tree.yaml"
LANGUAGES = ("en", "es")
# The intents the main menu understands: its choices and the problem reports.
MENU_INTENTS = ("track", "returns", "agent", "missing", "damaged", "wrong_item", "late")
# Labels of the corpus that are not intents of the tree.
OFF_MENU, NOISE = "off_menu", "noise"
LOOKUPS = frozenset({"track", "returns"})
GOAL = 0.97
PARTS = ("measured", "tune", "blind_a", "blind_b", "blind_c", "blind_d", "blind_e")


def corpus(part: str, language: str) -> dict[str, list[str]]:
    """Label -> phrasings of one part ("tune" or "measured") in one language."""
    suffix = "" if language == "en" else f"_{language}"
    with open(CORPUS / f"{part}{suffix}.yaml", encoding="utf-8") as file:
        data = yaml.safe_load(file)
    return {label: [str(phrasing) for phrasing in phrasings] for label, phrasings in data.items()}


def answers(part: str, language: str) -> dict[str, list[Any]] | None:
    """The part's answers to the menu's other questions in one language, or None when it has none."""
    suffix = "" if language == "en" else f"_{language}"
    path = CORPUS / f"{part}_answers{suffix}.yaml"
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as file:
        data: dict[str, list[Any]] = yaml.safe_load(file)
    return data


def menu_intents(language: str, tree_path: Path = TREE) -> dict[str, tuple[str, ...]]:
    """The default tree's phrases, in `language`, for the intents the main menu understands."""
    intents = load_tree(tree_path).intents_in(language)
    return {name: tuple(intents[name]) for name in MENU_INTENTS if name in intents}


@functools.cache
def menu_keys(tree_path: Path = TREE) -> dict[str, str]:
    """The main menu's keys and the intents they choose: "one", "option two" said are those keys."""
    start = load_tree(tree_path).start_node
    return {option.digit: option.intent for option in getattr(start, "options", ()) if option.digit}


def label_of(text: str, intents: Mapping[str, Sequence[str]], language: str) -> str:
    """The corpus label the flow's reading stands for: a key said ("one please", "opción dos") is that
    key, as ivr.flow reads it at a menu; anything else is the matcher's."""
    key = speech.spoken_key(text, language=language)
    keyed = menu_keys().get(key) if key else None
    if keyed is not None and keyed in intents:
        return keyed
    intent = speech.match_intent(text, intents, language=language)
    if intent is None:
        return NOISE
    return OFF_MENU if intent.name == speech.OFF_MENU else intent.name


@dataclass
class Figures:
    """How one part of the corpus in one language was understood."""

    language: str
    right: Counter[str] = field(default_factory=Counter)  # label -> phrasings answered right
    total: Counter[str] = field(default_factory=Counter)  # label -> phrasings
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (label, answer) -> count
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (label, answer, phrasing)

    @property
    def accuracy(self) -> float:
        """The share of phrasings answered right, over every label."""
        return sum(self.right.values()) / max(sum(self.total.values()), 1)

    @property
    def noise_to_lookup(self) -> int:
        """Noise answered with an intent that starts a lookup."""
        return sum(count for (label, answer), count in self.confusion.items() if label == NOISE and answer in LOOKUPS)

    @property
    def meets_goal(self) -> bool:
        """Issue 9's goal: at least 97% right and no noise sent to a lookup."""
        return self.accuracy >= GOAL and self.noise_to_lookup == 0


def measure(phrasings: Mapping[str, Sequence[str]], intents: Mapping[str, Sequence[str]], language: str) -> Figures:
    """Match every phrasing and count what came out."""
    figures = Figures(language)
    for label, texts in phrasings.items():
        for text in texts:
            answer = label_of(text, intents, language)
            figures.total[label] += 1
            figures.confusion[label, answer] += 1
            if answer == label:
                figures.right[label] += 1
            else:
                figures.misses.append((label, answer, text))
    return figures


# What each kind of answer must come out as, for the figures of the answers.
_YES_NO = {"yes": True, "no": False, "unclear": None}


@dataclass
class AnswerFigures:
    """How one part's answers to the other questions were understood, in one language."""

    language: str
    right: Counter[str] = field(default_factory=Counter)  # kind -> answers read right
    total: Counter[str] = field(default_factory=Counter)  # kind -> answers
    trusted_wrong: list[str] = field(default_factory=list)  # order numbers read wrong and trusted
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, what came out, said)

    @property
    def accuracy(self) -> float:
        """The share of answers read right, over every kind."""
        return sum(self.right.values()) / max(sum(self.total.values()), 1)

    @property
    def meets_goal(self) -> bool:
        """The goal of the menu's figures: at least 97% right, and no wrong order number trusted."""
        return self.accuracy >= GOAL and not self.trusted_wrong

    def count(self, kind: str, right: bool, answer: object, said: str) -> None:
        """Count one answer."""
        self.total[kind] += 1
        if right:
            self.right[kind] += 1
        else:
            self.misses.append((kind, str(answer), said))


def trusted(heard: speech.SpokenNumber) -> bool:
    """Whether the flow would look a heard order number up without reading it back (ivr.flow)."""
    return bool(speech.format_order_number(heard.digits)) and heard.complete and not heard.unsure


def measure_answers(data: Mapping[str, Sequence[Any]], language: str) -> AnswerFigures:
    """Read every answer as the flow does and count what came out."""
    figures = AnswerFigures(language)
    for case in data.get("order_numbers", ()):
        said, meant = str(case["said"]), str(case["digits"])
        heard = speech.spoken_digits(said, language=language)
        must_read_back = bool(case.get("read_back"))
        right = heard.digits == meant and not (must_read_back and trusted(heard))
        figures.count("order_number", right, f"{heard.digits} trusted={trusted(heard)}", said)
        if heard.digits != meant and trusted(heard):
            figures.trusted_wrong.append(said)
    for case in data.get("references", ()):
        said = str(case["said"])
        reference = speech.spoken_reference(said)
        figures.count("reference", reference == case["reference"], reference, said)
    for kind, meant_answer in _YES_NO.items():
        for said in data.get(kind, ()):
            # As the flow reads a yes/no question's speech: a key said ("one", "dos") is that key.
            answer = speech.yes_no("", str(said), language=language)
            figures.count(kind, answer is meant_answer, answer, str(said))
    for kind, meant_wait in (("wait", True), ("not_wait", False)):
        for said in data.get(kind, ()):
            asks = speech.asks_for_time(str(said), language=language)
            figures.count(kind, asks is meant_wait, asks, str(said))
    return figures


def report_answers(figures: AnswerFigures, part: str, show_misses: bool) -> None:
    """Print one language's figures for the answers to the other questions."""
    print(f"{figures.language}, {part} part, answers to the other questions: {sum(figures.total.values())}")
    for kind, total in figures.total.items():
        right = figures.right[kind]
        print(f"  {kind:<13} {right:>4}/{total:<4} {right / total:6.1%}")
    verdict = "goal met" if figures.meets_goal else "GOAL NOT MET"
    print(f"  overall       {figures.accuracy:.1%} (goal {GOAL:.0%})")
    print(f"  order numbers read wrong and trusted: {len(figures.trusted_wrong)} (goal 0): {verdict}")
    if show_misses:
        for kind, answer, said in figures.misses:
            print(f"  miss: {kind} -> {answer}: {said}")
    print()


def report(figures: Figures, part: str, show_misses: bool) -> None:
    """Print one language's figures: per label, overall, the confusion table, noise to a lookup."""
    labels = list(figures.total)
    print(f"{figures.language}, {part} part: {sum(figures.total.values())} phrasings")
    for label in labels:
        right, total = figures.right[label], figures.total[label]
        print(f"  {label:<11} {right:>4}/{total:<4} {right / total:6.1%}")
    verdict = "goal met" if figures.meets_goal else "GOAL NOT MET"
    print(f"  overall     {figures.accuracy:.1%} (goal {GOAL:.0%})")
    print(f"  noise sent to a lookup: {figures.noise_to_lookup} (goal 0): {verdict}")
    answers = labels + sorted({answer for _, answer in figures.confusion} - set(labels))
    width = max(len(answer) for answer in answers) + 1
    print("  confusion (rows: said, columns: understood)")
    print("  " + " " * 12 + "".join(f"{answer[: width - 1]:>{width}}" for answer in answers))
    for label in labels:
        cells = "".join(f"{figures.confusion[label, answer] or '.':>{width}}" for answer in answers)
        print(f"  {label:<12}{cells}")
    if show_misses:
        for label, answer, text in figures.misses:
            print(f"  miss: {label} -> {answer}: {text}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=PARTS, default="measured")
    parser.add_argument("--show-misses", action="store_true", help="list every phrasing answered wrong")
    args = parser.parse_args()
    results = [measure(corpus(args.part, language), menu_intents(language), language) for language in LANGUAGES]
    for figures in results:
        report(figures, args.part, args.show_misses)
    met = all(figures.meets_goal for figures in results)
    for language in LANGUAGES:
        data = answers(args.part, language)
        if data is not None:
            answer_figures = measure_answers(data, language)
            report_answers(answer_figures, args.part, args.show_misses)
            met = met and answer_figures.meets_goal
    if not met:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
