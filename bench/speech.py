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

Run: .venv/bin/python bench/speech.py [--part measured|tune] [--show-misses]
Exits 1 when a language's figures miss the goal.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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


def corpus(part: str, language: str) -> dict[str, list[str]]:
    """Label -> phrasings of one part ("tune" or "measured") in one language."""
    suffix = "" if language == "en" else f"_{language}"
    with open(CORPUS / f"{part}{suffix}.yaml", encoding="utf-8") as file:
        data = yaml.safe_load(file)
    return {label: [str(phrasing) for phrasing in phrasings] for label, phrasings in data.items()}


def menu_intents(language: str, tree_path: Path = TREE) -> dict[str, tuple[str, ...]]:
    """The default tree's phrases, in `language`, for the intents the main menu understands."""
    intents = load_tree(tree_path).intents_in(language)
    return {name: tuple(intents[name]) for name in MENU_INTENTS if name in intents}


def label_of(text: str, intents: Mapping[str, Sequence[str]], language: str) -> str:
    """The corpus label the matcher's answer stands for."""
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
    parser.add_argument("--part", choices=("measured", "tune", "blind_a", "blind_b", "blind_c"), default="measured")
    parser.add_argument("--show-misses", action="store_true", help="list every phrasing answered wrong")
    args = parser.parse_args()
    results = [measure(corpus(args.part, language), menu_intents(language), language) for language in LANGUAGES]
    for figures in results:
        report(figures, args.part, args.show_misses)
    if not all(figures.meets_goal for figures in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
