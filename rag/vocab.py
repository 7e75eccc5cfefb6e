"""Shared vocabularies of English text, defined once: stopwords, month names, quote marks, and the
shapes of names and amounts.

Every stage reads text (cleaning, near-duplicate facts, question checks, answer spans, quote
verification, follow-up rewriting); what counts as a stopword, a month, a quote mark, a name or
an amount is decided here so that the stages agree. Nothing here is about particular articles.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path


@cache
def stopwords(language: str) -> frozenset[str]:
    """NLTK's stopword list for `language`, from the copy llama-index ships (no download). The
    file is found without importing llama-index (that import costs a new process ~2 s)."""
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llama-index is not installed: reinstall Briefing QA (make install)")
    root = Path(next(iter(spec.submodule_search_locations))) / "_static" / "nltk_cache" / "corpora" / "stopwords"
    return frozenset((root / language).read_text(encoding="utf-8").split())


# Typographic quote marks and dashes → their plain forms (for matching text a model or a user retyped).
QUOTE_MARKS = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "–": "-", "—": "-"})

# Full month names, then their abbreviations ("sept" is September's second one).
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
)  # fmt: skip
MONTH_PATTERN = "|".join(m.capitalize() for m in MONTHS)


def month_number(name: str) -> int:
    """1–12 for a month name or abbreviation ("Sept." → 9); `ValueError` otherwise."""
    index = MONTHS.index(name.lower().rstrip("."))
    return index + 1 if index < 12 else [1, 2, 3, 4, 6, 7, 8, 9, 9, 10, 11, 12][index - 12]


# Two or more capitalised words in a row ("Olena Guseinova", "North Korea's").
MULTIWORD_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)+")

# Amounts with their qualifiers: "up to $5.5 billion", "more than 20,000 soldiers", "12%".
QUALIFIER = (
    r"(?:(?:up to|over|more than|less than|fewer than|at least|at most|about|around|nearly|almost|roughly|"
    r"approximately|some|an estimated|an average of|as many as|as much as|under|below|above|only|every)\s+)?"
)
NUMBER = r"(?:[$€£¥]\s?)?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_SCALE = r"(?:\s?(?:%|percent|per cent)|\s(?:thousand|million|billion|trillion|hundred))*"
_WORD_NUMBER = (
    r"\b(?:hundreds|thousands|millions|billions|tens) of (?:thousands of |millions of |billions of )?[a-z]+"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|a hundred|a dozen|dozens)\b"
)
_UNIT = (
    r"(?:\s(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centuries|tonnes?|tons?|barrels?|"
    r"kilometres?|kilometers?|km|miles?|metres?|meters?|kg|people|persons?|soldiers?|troops|workers|employees|"
    r"students|members|meetings|visits|votes|seats|times)\b)?"
)
QUANTITY = re.compile(rf"{QUALIFIER}(?:{NUMBER}{_SCALE}{_UNIT}|{_WORD_NUMBER})", re.I)
YEAR = re.compile(r"(?:in |since |by )?(?:19|20)\d\d")


def quantities(text: str) -> list[re.Match[str]]:
    """The amounts stated in `text` (a bare year is not an amount)."""
    return [m for m in QUANTITY.finditer(text) if not YEAR.fullmatch(m.group(0))]


# Penn Treebank tags of wh-words (spaCy's tagger): what a question asks with.
WH_TAGS = frozenset({"WDT", "WP", "WP$", "WRB"})
