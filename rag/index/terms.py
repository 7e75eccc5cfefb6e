"""What a term is, for BM25 and for answer scoring alike: bm25s' token pattern, lower case, the
English Snowball stemmer, and bm25s' stopwords plus NLTK's (the copy llama-index ships)."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s' default splitter


class Terms:
    """Lower-cased, stemmed content terms (the BM25 index's stemmer; its stopwords plus NLTK's)."""

    def __init__(self) -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN

        from rag.vocab import stopwords

        self._stem = Stemmer.Stemmer("english").stemWord
        self._stop = set(STOPWORDS_EN) | stopwords("english")

    def __call__(self, text: str) -> list[str]:
        return [self._stem(t) for t in _TOKEN.findall(text.lower()) if t not in self._stop]

    def _name_tokens(self, text: str) -> list[tuple[int, re.Match[str]]]:
        """(token index, match) of each word written as a name or a number, not at the start."""
        return [
            (i, m)
            for i, m in enumerate(_TOKEN.finditer(text))
            if (t := m.group()).lower() not in self._stop and (t[0].isdigit() or (i > 0 and t[0].isupper()))
        ]

    def name_words(self, text: str) -> list[str]:
        """Words written as names or numbers ("China", "2018", "ECB"), not at the start of `text`."""
        return [m.group() for _, m in self._name_tokens(text)]

    def name_runs(self, text: str) -> list[str]:
        """Adjacent name words (not numbers) as one name, as `text` writes them ("United States")."""
        spans: list[tuple[int, int]] = []
        last = -2  # the token index of the name word that ended the last span
        for i, m in self._name_tokens(text):
            if m.group()[0].isdigit():
                continue
            if i == last + 1 and text[spans[-1][1] : m.start()].isspace():
                spans[-1] = (spans[-1][0], m.end())
            else:
                spans.append((m.start(), m.end()))
            last = i
        return [text[a:b] for a, b in spans]

    def names(self, text: str) -> set[str]:
        """The stems of `name_words(text)`."""
        return {self._stem(t.lower()) for t in self.name_words(text)}

    def stem(self, word: str) -> str:
        return self._stem(word.lower())
