"""Read → cite → verify: the offline answer, from the reader's spans in the retrieved passages.

`find(question, passages, reader, corpus, confidence)` has the reader (`rag.query.reader`) read the
question against every retrieved passage (and the byline of each article they come from, as the
statement `rag.ingest.read.byline_statement` makes of it). Each passage's best span (in a follow-up,
its best that does not restate the last answer: `rag.query.values.repeats`) becomes a `Found`: the
span, whole, as the short answer ("£10.3m"); the sentence or sentences that hold it, as the quote;
and the probability that this quote answers the question, from a logistic model (`Confidence`,
`rag/query/models/confidence.json`) over what the reader and retrieval know of it (`FEATURES`):

- `margin`: the span's score against the passage's no-answer score; `score` and `null`: the two;
- `dense`: the passage's cosine to the question; `rank`: 1 / (1 + its retrieval rank; in a
  conversation, its better place in the question's own search and in the one with the last turn);
- `names`: share of the question's names and numbers found in the passage and its title;
- `coverage`: share of the question's IDF weight found there;
- `quote_names`, `quote_coverage`: the same in the quote (the sentence that holds the span; for a
  byline, the statement the reader read);
- `agree`: share of the other passages whose best span gives the same answer.

It is fitted on SQuAD 2.0 articles the reader was never trained on and on the gated real-news
questions (`python -m rag.evaluation.calibrate`), labelled by whether the quote holds the gold
answer, then re-based from that set's answer rate to `Settings.answerable_prior`. Which `Found`
is the answer is the model's second part, `choice`: a conditional logit over the same features,
fitted on the answerable questions, that compares a question's spans with each other
(`chosen_first`). Below `min_confidence` (the highest probability of any span: `answered`) the
answer abstains.
`compose` cites the chosen span, cites other articles that give the same answer, and says the
sources differ only when another article's passage answers as confidently with another value of
the same kind (`rival`). A question naming something the corpus never mentions abstains and says
what. Every citation is checked against the stored original text before it is returned
(`rag.query.verify`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag.ingest.read import byline_statement
from rag.query.confidence import Confidence
from rag.query.reader import Reader, Reading
from rag.query.retrieve import Corpus
from rag.query.values import numbers, repeats, same_value, value
from rag.query.verify import same_text, verified
from rag.types import Answer, Citation, Disagreement, Passage, Sentence

NOT_COVERED = "The briefing corpus does not cover this question."
_MAX_CITATIONS = 3
_RIVAL_SHARE = 0.9  # a disagreeing source answers at least this confidently, relative to the best
_LEAD_SHARE = 0.6  # a span longer than this share of its sentence is no short answer: the sentence speaks


@dataclass(frozen=True)
class Found:
    """The reader's best span in one passage (or in its article's byline), placed in the article."""

    passage: Passage
    sentences: tuple[Sentence, ...]  # what holds the span: the quote
    answer: str  # the span, whole words, as the passage writes it
    reading: Reading
    features: np.ndarray
    probability: float
    byline: bool = False


def _window(passage: Passage) -> tuple[str, list[tuple[int, Sentence]]]:
    """A passage's text as the reader reads it, and where each of its sentences starts in it."""
    placed, at = [], 0
    for sentence in passage.chunk.sentences:
        placed.append((at, sentence))
        at += len(sentence.text) + 1
    return " ".join(s.text for s in passage.chunk.sentences), placed


def _holding(placed: list[tuple[int, Sentence]], start: int, end: int) -> tuple[tuple[Sentence, ...], str]:
    """The sentence that holds most of the span `[start, end)` of a window, and the span's words
    in it: a span that runs past a sentence's end is cut to the sentence it mostly lies in."""
    overlaps = [(min(end, at + len(s.text)) - max(start, at), at, s) for at, s in placed]
    size, at, sentence = max(overlaps, key=lambda o: o[0])
    if size <= 0:
        return (), ""
    lo, hi = max(start, at) - at, min(end, at + len(sentence.text)) - at
    return (sentence,), sentence.text[lo:hi].strip(" ,.;:")


def find(
    question: str,
    passages: Sequence[Passage],
    reader: Reader,
    corpus: Corpus,
    confidence: Confidence,
    ranked: Sequence[Sequence[Passage]] = (),
    last_answer: str = "",
) -> list[Found]:
    """Each passage's (and byline's) best span: the chosen one first, then the others, most
    probable first (`chosen_first`). `rank` is each passage's best place in the orders of
    `ranked` (the searches the question was made with; default: `passages`), or
    `len(passages)` when no search placed it. In a follow-up, a span that only repeats
    `last_answer` (the last turn's) is passed over for the window's next best (`repeats`)."""
    windows: list[tuple[Passage, str, list[tuple[int, Sentence]], bool]] = []
    for passage in passages:
        text, placed = _window(passage)
        windows.append((passage, text, placed, False))
    seen: set[str] = set()
    for passage in passages:  # each article's byline, read as what it states
        article = passage.article
        if article.byline is None or article.id in seen:
            continue
        seen.add(article.id)
        statement = byline_statement(article.title, article.author, article.date, article.outlet)
        if statement:
            b = article.byline
            windows.append((passage, statement, [(0, Sentence(b.start, b.end, b.text, b.entities))], True))
    skip = (lambda span: repeats(span, last_answer)) if last_answer.strip() else None
    readings = reader.read(question, [text for _, text, _, _ in windows], skip)
    if not readings:
        return []
    rank: dict[str, int] = {}
    for order in ranked or (passages,):
        for k, p in enumerate(order):
            rank[p.chunk.id] = min(k, rank.get(p.chunk.id, k))
    q_terms = set(corpus.terms(question))
    weight = corpus.idf(sorted(q_terms))
    total = sum(weight.values()) or 1.0
    names = corpus.terms.names(question)
    positive = [r.margin > 0 for r in readings]
    out = []
    for k, r in enumerate(readings):
        passage, text, placed, byline = windows[r.source]
        holding, answer = ((placed[0][1],), r.answer) if byline else _holding(placed, r.start, r.end)
        if not holding or not answer or (byline and answer.lower() not in holding[0].text.lower()):
            continue  # a byline answers only with what the byline itself says (not its title's words)
        title = "" if passage.article.title_derived else passage.article.title
        terms = set(corpus.terms(f"{title} {text}"))
        # a byline is read as its statement (title, author, date): the quote's terms are the statement's
        quoted = terms if byline else set(corpus.terms(" ".join(s.text for s in holding)))
        others = [j for j in range(len(readings)) if j != k]
        agree = (
            sum(positive[j] and same_value(readings[j].answer, r.answer) for j in others) / len(others)
            if others
            else 0.0
        )
        features = np.array(
            [
                r.margin,
                r.score,
                r.null,
                passage.dense,
                1.0 / (1 + rank.get(passage.chunk.id, len(passages))),
                len(names & terms) / len(names) if names else 1.0,
                sum(w for t, w in weight.items() if t in terms) / total,
                len(names & quoted) / len(names) if names else 1.0,
                sum(w for t, w in weight.items() if t in quoted) / total,
                agree,
            ]
        )
        out.append(Found(passage, holding, answer, r, features, confidence.probability(features), byline))
    return chosen_first(out, confidence)


def answered(found: Sequence[Found]) -> float:
    """The probability that the question is answered: its most probable span's (the chosen span
    may be another, less probable alone, that the choice model prefers)."""
    return max((f.probability for f in found), default=0.0)


def chosen_first(found: Sequence[Found], confidence: Confidence) -> list[Found]:
    """The span the choice model prefers, then the others, most probable first."""
    if not found:
        return []
    best = found[confidence.chosen([f.features for f in found])]
    return [best, *sorted((f for f in found if f is not best), key=lambda f: -f.probability)]


def compose(
    question: str,
    found: Sequence[Found],
    texts: Mapping[str, str],
    min_confidence: float,
    unknown: Sequence[str] = (),
) -> Answer:
    """The chosen `Found` as a cited answer, or an abstention: nothing probable enough, or the
    question names something the corpus never mentions (`unknown`, said in the note). `found` is
    `find`'s: the chosen span first, the others most probable first (`rival` relies on it)."""
    passages = tuple(dict.fromkeys(f.passage for f in found))
    best = found[0] if found else None
    confidence = answered(found)
    if unknown:
        note = f"The corpus never mentions {', '.join(unknown)}."
        return Answer(
            question=question, text=NOT_COVERED, abstained=True, passages=passages, confidence=confidence, note=note
        )
    if best is None or confidence < min_confidence:
        return Answer(question=question, text=NOT_COVERED, abstained=True, passages=passages, confidence=confidence)
    chosen = [best, *_corroborating(best, found[1:], min_confidence)]
    cited = [_cited(f, texts) for f in chosen]
    if not cited[0]:
        return Answer(
            question=question,
            text=NOT_COVERED + " (The best passage could not be verified against its source; re-ingest it.)",
            abstained=True,
            confidence=confidence,
            passages=passages,
        )
    cited = [c for c in cited if c]
    short = _short(best)
    if not short:  # no lead to corroborate: the quote alone, and only its own citations
        cited = cited[:1]
    citations = [c for group in cited for c in group]
    own = _marks(1, len(cited[0]))  # what the best passage's quote supports
    quote = _quoted(" ".join(s.text for s in best.sentences))
    text = f"{_lead(short, _marks(1, len(citations)))} {quote} {own}" if short else f"{quote} {own}"
    conflicts: tuple[Disagreement, ...] = ()
    other = rival(best, found[1:], min_confidence)
    extra = _cited(other, texts) if other is not None else []
    if other is not None and extra:
        first = len(citations) + 1
        citations = [*citations, *extra]
        theirs = _marks(first, len(citations))
        text = (
            f"The sources differ: {_capital(best.answer)} {_marks(1, first - 1)}; {other.answer} {theirs}. "
            f"{quote} {own} {_quoted(' '.join(s.text for s in other.sentences))} {theirs}"
        )
        conflicts = (
            Disagreement(best.answer, 1, best.passage.article.source),
            Disagreement(other.answer, first, other.passage.article.source),
        )
    return Answer(
        question=question,
        text=text,
        citations=tuple(citations),
        confidence=confidence,
        short_answer=_capital(best.answer),
        conflicts=conflicts,
        passages=passages,
    )


def _marks(first: int, last: int) -> str:
    return "".join(f"[{i}]" for i in range(first, last + 1))


def _lead(short: str, marks: str) -> str:
    """The answer's first sentence: the short answer, whole, with the marks of every citation that
    supports it ("Over $1.7 billion [1][2].")."""
    short = _nested(short)
    return f"{short} {marks}" if short.endswith((".", "!", "?")) else f"{short} {marks}."


def _quoted(text: str) -> str:
    """`text` between typographic double quotes (`_nested` inside)."""
    return f"“{_nested(text)}”"


def _nested(text: str) -> str:
    """`text` with its double quotation marks turned single, so that it nests in double ones,
    and balanced: a quotation that opened before the text (or runs past it) gets its missing mark
    at the start (or end). Display only: citations keep the verbatim text."""
    out, depth, missing_open = [], 0, 0
    for i, ch in enumerate(text):
        if ch not in '"“”':
            out.append(ch)
            continue
        opening = ch == "“" or (ch == '"' and (i == 0 or text[i - 1].isspace() or text[i - 1] in "([{—–-"))
        if opening:
            depth += 1
            out.append("‘")
        else:
            if depth:
                depth -= 1
            else:
                missing_open += 1
            out.append("’")
    return "‘" * missing_open + "".join(out) + "’" * depth


def _short(found: Found) -> str:
    """The span as the answer's lead, unless it is most of its sentence (a reason, a description)."""
    sentence = " ".join(s.text for s in found.sentences)
    if found.byline or len(found.answer) > _LEAD_SHARE * len(sentence):
        return _capital(found.answer) if found.byline else ""
    return _capital(found.answer)


def _cited(found: Found, texts: Mapping[str, str]) -> list[Citation]:
    """The verified citations of a `Found`'s sentences; empty when any fails verification."""
    article = found.passage.article
    text = texts.get(article.id, "")
    citations = [
        Citation(
            source=article.source,
            title=article.title,
            quote=text[s.start : s.end],
            start=s.start,
            end=s.end,
            score=round(found.probability, 4),
            article_id=article.id,
        )
        for s in found.sentences
    ]
    kept = verified([c for c, s in zip(citations, found.sentences) if same_text(c.quote, s.text)], texts)
    return kept if len(kept) == len(citations) else []


def _corroborating(best: Found, rest: Sequence[Found], min_confidence: float) -> list[Found]:
    """Confident passages of other articles whose best span gives the same answer."""
    out: list[Found] = []
    seen = {best.passage.article.id}
    for f in rest:
        if len(out) + 1 >= _MAX_CITATIONS:
            break
        if (
            f.probability >= min_confidence
            and f.passage.article.id not in seen
            and value(f.answer) == value(best.answer)
        ):
            out.append(f)
            seen.add(f.passage.article.id)
    return out


def rival(best: Found, rest: Sequence[Found], min_confidence: float) -> Found | None:
    """Another article's passage that answers as confidently with another value of the same kind
    (both spans state a number, and spaCy's entities give them a kind in common: two amounts of
    money, two dates, two counts), or None. A false disagreement is worse than none, so the bar is
    high: both confident, the rival nearly as probable as the most probable span, and no number
    shared ("over $1.7 billion" does not contradict "$1.7 billion")."""
    if best.probability < min_confidence or not numbers(best.answer) or not (kinds := _kinds(best)):
        return None
    floor = max(min_confidence, _RIVAL_SHARE * answered([best, *rest]))
    for f in rest:
        if f.probability < floor:
            break
        if f.passage.article.id == best.passage.article.id or f.byline or not numbers(f.answer):
            continue
        if set(numbers(best.answer)) & set(numbers(f.answer)):
            continue  # a shared number: the same value, perhaps qualified otherwise
        if kinds & _kinds(f):
            return f
    return None


def _kinds(found: Found) -> frozenset[str]:
    """The kinds of value a span states: the labels of the entities it overlaps in its sentence
    (MONEY, DATE, CARDINAL, PERCENT, …, as spaCy found them at ingest)."""
    for sentence in found.sentences:
        at = sentence.text.find(found.answer)
        if at >= 0:
            end = at + len(found.answer)
            return frozenset(e.label for e in sentence.entities if e.start < end and e.end > at)
    return frozenset()


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
