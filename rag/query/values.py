"""What an answer states, compared with another: its numbers, its value, the same value, a restatement.

same_value("3 March 2023", "March 3, 2023")      # True: the same numbers
repeats("Psychologist", "Psychologist Dave Collins")  # True: nothing the earlier answer did not say
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_JOINED = re.compile(r"\s(?:and|or)\s")  # an answer that is a list joins its last item so ("A, B and C")
_LIST = re.compile(r"[,;]\s|\s(?:and|or)\s")  # between the items of such a list
_SHORT = 4  # words of an earlier answer short enough that a part of it restates it ("Psychologist")


def numbers(text: str) -> tuple[str, ...]:
    """The numbers a text writes, without thousands separators."""
    return tuple(n.replace(",", "") for n in _NUMBER.findall(text))


def value(text: str) -> str:
    """An answer compared with another: lower case, no punctuation, no articles."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower())
    return " ".join(w for w in re.sub(r"[^\w\s.$£€%]", " ", text).split() if w not in ("a", "an", "the"))


def same_value(a: str, b: str) -> bool:
    """Two answers that state the same value: the same numbers when they state numbers ("3 March
    2023" is "March 3, 2023"), else the same words."""
    found = set(numbers(a)), set(numbers(b))
    return found[0] == found[1] if any(found) else value(a) == value(b)


def repeats(span: str, earlier: str) -> bool:
    """Whether `span` restates the earlier answer:
    - when both state numbers: the span states no other ("Up to $1.7 billion" or "$1.7bn" after
      "Over $1.7 billion"; "24%" after "14.27 million tonnes of crops in 2004, 24%"), or it
      states the earlier answer's first ("£51.6m in 2004 from £1.2m" after "£51.6m"); not
      "£60m in 2004" after "£51.6m in 2004";
    - else, word for word: it holds the whole earlier answer ("Director general, Jose Maria
      Pons" after "Jose Maria Pons"), or it is a part of a short one ("Psychologist" after
      "Psychologist Dave Collins"; not "Ukraine" after "reconsider its decision to send arms to
      Ukraine").
    One item of a list the earlier answer gave is no restatement: it picks one ("Kim Collins"
    after "Maurice Greene and Kim Collins")."""
    said, before = value(span), value(earlier)
    if not said or not before:
        return False
    items = {value(item) for item in _LIST.split(earlier)} if _JOINED.search(earlier) else set()
    if len(items) > 1 and said in items:
        return False
    stated, stated_before = numbers(span), numbers(earlier)
    if stated and stated_before:
        return set(stated) <= set(stated_before) or stated_before[0] in stated
    if _within(before, said):
        return True
    return _within(said, before) and len(before.split()) <= _SHORT


def _within(part: str, whole: str) -> bool:
    """Whether `part` is a run of whole words of `whole`."""
    return f" {part} " in f" {whole} "
