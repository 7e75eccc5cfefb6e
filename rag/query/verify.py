"""Quote verification: a citation reaches a user only if its quote is the source text at its offsets.

`same_text(original, clean)` checks that an original slice (which may hold HTML tags and entity
references) says the same as the clean sentence it was cut for. `verified(citations, texts)` keeps the citations whose `quote == texts[article_id][start:end]`
and drops the rest. `locate(text, quote)` finds a quote that a model may have retyped with other
whitespace or quote marks, and returns the exact original span, or None: no fuzzy matching,
so a paraphrase is never passed off as a quote. `supports(claim, evidence, terms)` is the local
test that a sentence says what its quotes say (used on model answers and by the eval).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from rag.types import Citation
from rag.vocab import QUOTE_MARKS

_NUM = re.compile(r"\d+(?:\.\d+)?")


class TermsLike(Protocol):
    """What `supports` needs of `rag.retrieve.Terms`: content terms, and the names among them."""

    __call__: Callable[[str], list[str]]

    def names(self, text: str) -> set[str]: ...


def normalise(text: str) -> str:
    """Lower case, unified quote marks and dashes, thousands separators and "$" dropped, spaces collapsed."""
    text = text.lower().translate(QUOTE_MARKS)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text).replace("$", "")
    return " ".join(text.split())


def supports(claim: str, evidence: str, terms: TermsLike, share: float = 0.6) -> bool:
    """Does `evidence` (the cited quotes, joined) say what `claim` says? A lexical and numeric test,
    as no entailment model ships in a package here: every number and every name of the claim
    must appear in the evidence, and at least `share` of its content terms. "PWNED [1]" citing a
    real quote fails it, as does a sentence that swaps a name or a figure."""
    claim_n, evidence_n = normalise(claim), normalise(evidence)
    if any(n not in _NUM.findall(evidence_n) for n in _NUM.findall(claim_n)):
        return False
    have = set(terms(evidence_n))
    if not {n for n in terms.names(claim) if not n[0].isdigit()} <= have:  # numbers: checked above
        return False
    wanted = set(terms(claim_n))
    return not wanted or len(wanted & have) >= share * len(wanted)


def verified(citations: Iterable[Citation], texts: Mapping[str, str]) -> list[Citation]:
    """The citations that quote their article exactly."""
    return [c for c in citations if c.article_id in texts and texts[c.article_id][c.start : c.end] == c.quote]


def _normalise(text: str) -> tuple[str, list[int]]:
    """Text with quote marks/dashes unified and whitespace runs collapsed, plus original offsets."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text.translate(QUOTE_MARKS)):
        if ch.isspace():
            if out and out[-1] == " ":
                continue
            ch = " "
        out.append(ch)
        origin.append(i)
    return "".join(out), origin


def locate(text: str, quote: str) -> tuple[int, int] | None:
    """Original `[start, end)` of `quote` in `text`, exact up to whitespace and quote-mark style."""
    if not quote.strip():
        return None
    start = text.find(quote)
    if start != -1:
        return start, start + len(quote)
    norm_text, origin = _normalise(text)
    norm_quote = _normalise(quote.strip())[0]
    m = re.search(re.escape(norm_quote), norm_text)
    if not m:
        return None
    return origin[m.start()], origin[m.end() - 1] + 1


def same_text(original: str, clean: str) -> bool:
    """True when `original` (tags dropped, entities decoded, whitespace collapsed) equals `clean`."""

    def flat(text: str) -> str:
        return " ".join(text.split())

    if original == clean:
        return True
    return flat(html.unescape(re.sub(r"<[^>]*>", "", original))) == flat(clean)
