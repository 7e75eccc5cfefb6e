"""Checks on a question before any work is done: empty or without words, too long, control characters,
not English.

Invisible formatting characters (zero-width spaces and joiners, direction marks, a byte-order
mark, soft hyphens: Unicode category Cf) are removed and the text is NFKC-normalised, so a
question asks what it shows on screen; a lone surrogate (text that is not valid Unicode) is refused.

The corpus, the embedding model and the answer rules are English, so a question in another
language gets a clear error instead of a confident wrong answer. Language is judged from the
script (mostly non-Latin letters) or, for Latin-script text, from the stopword lists NLTK ships
inside llama-index (a question made of French or Spanish function words and no English ones).
"""

from __future__ import annotations

import re
import unicodedata

from rag.errors import InputError
from rag.vocab import stopwords

_OTHER_LANGUAGES = ("french", "spanish", "german", "italian", "portuguese", "dutch")


def validate_question(question: object, max_chars: int = 2000) -> str:
    """The question, stripped; `InputError` saying what to change when it cannot be asked."""
    if not isinstance(question, str):
        raise InputError(f"A question must be text, not {type(question).__name__}")
    surrogates = sorted({f"U+{ord(c):04X}" for c in question if unicodedata.category(c) == "Cs"})
    if surrogates:
        raise InputError(
            f"The question contains characters that are not valid Unicode ({', '.join(surrogates[:5])}, lone "
            "surrogates); send it as UTF-8 text and ask again."
        )
    text = unicodedata.normalize("NFKC", "".join(c for c in question if unicodedata.category(c) != "Cf")).strip()
    if not text:
        raise InputError('The question is empty — type what you want to know, e.g. "Who owns the Telegraph?"')
    if not any(c.isalnum() for c in text):
        raise InputError(f"The question {text[:40]!r} has no words — type what you want to know in words")
    if len(text) > max_chars:
        raise InputError(
            f"The question is {len(text):,} characters long; the limit is {max_chars:,}. Ask a shorter question."
        )
    controls = sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r"})
    if controls:
        raise InputError(
            f"The question contains control characters ({', '.join(controls)}); remove them and ask again."
        )
    language = _foreign_language(text)
    if language:
        raise InputError(
            f"The question looks like {language}; the briefing corpus and its models are English. Ask in English."
        )
    return " ".join(text.split())


def _foreign_language(text: str) -> str | None:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    latin = sum("LATIN" in unicodedata.name(c, "") for c in letters)
    if latin / len(letters) < 0.5:
        return "a language not written in Latin script"
    if "¿" in text or "¡" in text:  # opening marks only Spanish (and Galician, Asturian) write
        return "Spanish"
    words = re.findall(r"[^\W\d_]+", text.lower())
    english = sum(w in stopwords("english") for w in words)
    best, hits = max(
        ((lang, sum(w in stopwords(lang) for w in words)) for lang in _OTHER_LANGUAGES), key=lambda x: x[1]
    )
    if hits >= 2 and hits > 2 * english:
        return best.capitalize()
    return None


_PERSONAL = frozenset({"he", "she", "him", "her", "his", "hers"})


def unnamed_person(question: str) -> str | None:
    """The personal pronoun of `question` that stands for no one it names ("What did he say?":
    "he"), or None. Asked with no conversation before it, such a question has no answer to look
    for; one that names someone first ("What did the minister say about his plan?") has."""
    if not _PERSONAL & set(re.findall(r"[a-z]+", question.lower())):
        return None
    from rag.ingest.analyze import parse

    for token in parse(question):
        if token.pos_ in ("NOUN", "PROPN"):
            return None
        if token.lower_ in _PERSONAL and token.pos_ == "PRON":
            return token.text
    return None
