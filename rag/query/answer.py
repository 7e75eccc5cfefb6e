"""The offline answerer: rank the sentences of the retrieved passages, cite the best, or abstain.

Every sentence of the top passages (and the byline of each article they come from, scored as
the statement `rag.ingest.read.byline_statement` makes of it) gets seven features of its own —
`dense` (cosine to the question), `coverage` (share of the question's IDF weight found in the
sentence, a question word also counting when the sentence has a word of nearly the same meaning:
`rag.query.paraphrase`), `context` (the same over the sentence, its neighbours and the article
title), `names` (share of the question's names and numbers found in the sentence),
`kind` (the probability that the answer is an entity × (2 × the fit of the sentence's
best-fitting entity − 1): near +1 when the question wants a date, a name, an amount … and the
sentence has one of that label, near −1 when it wants one and has none, 0 for descriptions),
`near` (1 / (1 + words between that short answer and the nearest question word)) and `rank`
(1 / (1 + passage rank)); five more place it among the others: `passage` (its passage's fused
retrieval score over the best passage's), `passage_dense` (that passage's cosine), `length`
(terms / 10), `bigrams` (share of the question's consecutive term pairs it has consecutively)
and `spread` (span of the question terms it has, per term). A listwise ranker over all twelve
orders the sentences (the five raised the held-out share of questions whose top sentence holds
the answer from 0.78 to 0.80 on SQuAD); a logistic model over the first seven (`CONFIDENCE`)
gives the probability that the top one answers the question (`Calibration`). Both are fitted on the SQuAD
2.0 benchmark articles (`python -m rag.evaluation.calibrate`, written to
`rag/query/calibration.json`), not on the seed corpus, then re-based from SQuAD's answer rate to
`Settings.answerable_prior`. Below `min_confidence` the answer abstains, and no model is called;
it abstains too, saying why, when the question counts something ("how many drones") that no
likely sentence's context names. A number the question writes in digits ("in 2023", "more than
20,000 soldiers") is a constraint the learned ranking barely weighs: the likely sentences that
state it (in digits, or in words for a whole number below 100: "3" is "three" or "third") are
cited before those that do not, and when no likely sentence, with its neighbours and its
article's title, states it, the answer abstains and says so (a byline states what its statement
says, title included). A question that denies something ("Which countries did not sign?") is not
answered by a sentence whose context states it without a negation ("France and Spain signed"):
it abstains and says so (`Candidate.polarity`).

The answer text leads with the short answer ("Over $1.7 billion: <the sentence> [1]"): the
entity that fits what the question asks for, or the phrase of the sentence that the phrase model
(`rag.query.phrases`) finds likely enough; then the sentence as the source writes it, with
numbered citations; the same answer in other articles is cited too, and
when another article states another value for it, the answer says the sources differ and shows
both, each with its citation (`Answer.conflicts`).
Every citation is checked against the stored original text before it is returned.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files

import numpy as np

from rag.index.store import byline_id
from rag.ingest.analyze import irregular_forms
from rag.ingest.read import byline_statement
from rag.query.phrases import Phrase
from rag.query.retrieve import Corpus
from rag.query.spans import Span, best_span, bound, bound_words, qualifier, span_bound
from rag.query.understand import NUMERIC, Understanding
from rag.query.verify import same_text, verified
from rag.types import Answer, Citation, Disagreement, Passage, Sentence
from rag.vocab import MONTHS, month_number

FEATURES = (
    "dense", "coverage", "context", "names", "kind", "near", "rank",
    "passage", "passage_dense", "length", "bigrams", "spread",
)  # fmt: skip
# The probability that a sentence answers reads only what it says against the question: how its
# passage scored against the others orders sentences, but says nothing of whether the corpus answers.
CONFIDENCE = FEATURES[:7]
NOT_COVERED = "The briefing corpus does not cover this question."
SYNONYM = 0.8  # word-vector cosine of a synonym ("soldiers" ~ "troops" 0.89; "missiles" ~ "weapons" 0.63)
_UNITS = frozenset({"QUANTITY", "PERCENT"})  # amounts that state their own unit
_MAX_CITATIONS = 3
_LEAD_KIND = 0.1  # an entity leads the answer as its short form when the question wants one and it fits
_LEAD_PHRASE = 0.5  # another phrase leads it when it is more likely than not the answer
# Below that, the entity leads only where the phrase model's best phrase overlaps it: when the two
# disagree ("how often": "Tuesday" against "every 45 minutes"), the sentence stands alone.
_RIVAL_SHARE, _RIVAL_NEAR = 0.75, 0.15  # a disagreeing source: nearly as likely, its value beside the question's words


@dataclass(frozen=True)
class Calibration:
    """Two linear models over `FEATURES`: `ranking` orders a question's sentences (a softmax
    ranker; no bias, only the order counts), and `weights` + `bias` give the probability that the
    top-ranked sentence answers the question (a logistic model fitted where the answer rate was
    `base_rate`). Without `ranking`, the probability orders the sentences too.

    `prior` re-bases the probabilities to the share of questions that this corpus is expected to
    answer (Bayes' rule on the odds): SQuAD 2.0 is half unanswerable by design, with
    unanswerable questions written to look answerable, while users of a briefing mostly ask
    about what it covers. `prior == base_rate` leaves the fitted probabilities as they are.
    """

    weights: tuple[float, ...]
    bias: float
    source: str
    base_rate: float = 0.5
    prior: float = 0.5
    ranking: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        for name in ("base_rate", "prior"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be strictly between 0 and 1, got {getattr(self, name)}")

    def score(self, features: np.ndarray) -> float:
        """The ranking score of a sentence (higher first)."""
        return float(np.dot(self.ranking or self.weights, features))

    def probability(self, features: np.ndarray) -> float:
        shift = math.log(self.prior / (1 - self.prior)) - math.log(self.base_rate / (1 - self.base_rate))
        z = float(np.dot(self.weights, features) + self.bias) + shift
        return 1.0 / (1.0 + math.exp(-z))

    @classmethod
    def load(cls, prior: float | None = None) -> Calibration:
        data = json.loads((files("rag.query") / "calibration.json").read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"calibration.json has features {data['features']}, expected {FEATURES}")
        base = float(data.get("base_rate", 0.5))
        return cls(
            weights=tuple(data["weights"]),
            bias=float(data["bias"]),
            source=data.get("source", ""),
            base_rate=base,
            prior=base if prior is None else prior,
            ranking=tuple(data.get("ranking", ())),
        )


@dataclass(frozen=True)
class Candidate:
    passage: Passage
    sentence: Sentence
    features: np.ndarray
    probability: float  # that this sentence answers the question (`Calibration.probability`)
    span: Span | None
    unmet: tuple[str, ...] = ()  # what the question counts, when the sentence's context never names it
    score: float = 0.0  # the ranking score (`Calibration.score`): candidates are ordered by it
    states: bool = True  # it writes every number the question writes in digits (see `score_sentences`)
    context_states: bool = True  # so do it, its neighbours and its article's title together
    # False when its context states positively what the question denies: the sentences (and title)
    # that have a word the question's negation denies ("did not sign" → "signed") negate nothing
    polarity: bool = True


def score_sentences(
    understanding: Understanding,
    passages: list[Passage],
    query_vector: np.ndarray,
    sentence_vectors: Mapping[str, np.ndarray],
    corpus: Corpus,
    calibration: Calibration,
    similar: Mapping[str, Mapping[str, float]] | None = None,
) -> list[Candidate]:
    """All sentences of `passages` (and each article's byline), best-ranked first. `similar` pairs question words with passage words
    of nearly the same meaning (`rag.query.paraphrase`): a sentence covers a question word it
    words differently."""
    question = understanding.read.text
    wanted = bound(question)  # a question about a maximum or a minimum asks for an amount
    bound_terms = set(corpus.terms(" ".join(bound_words(question))))
    q_order = corpus.terms(question)
    q_terms = set(q_order)
    names = corpus.terms.names(question)
    q_words = {w.lower() for w in re.findall(r"\w+", question)}
    weight = {t: corpus.idf_of(t, name=t in names) for t in q_terms}
    total = sum(weight.values()) or 1.0
    expects = understanding.wants_entity

    alternatives = {t: {t} for t in q_terms}
    for lemma in understanding.read.lemmas:  # "wrote" is stated by "written": the lemma's forms
        forms = set(corpus.terms(" ".join([lemma, *irregular_forms(lemma)])))
        for t in forms & q_terms:
            alternatives[t] |= forms
    synonyms: dict[str, set[str]] = {}  # the closer paraphrases: what a count must be of
    for word, close in (similar or {}).items():
        stems = corpus.terms(word)
        if stems and stems[0] in alternatives:
            alternatives[stems[0]] |= set(corpus.terms(" ".join(close)))
            synonyms[stems[0]] = set(corpus.terms(" ".join(w for w, sim in close.items() if sim >= SYNONYM)))

    def coverage(terms: set[str]) -> float:
        return sum(weight[t] for t in q_terms if alternatives[t] & terms) / total

    def meets(word: str, terms: set[str]) -> bool:
        stems = corpus.terms(word)
        return not stems or bool(({stems[0]} | synonyms.get(stems[0], set())) & terms)

    read = understanding.read
    asks_money = bool(understanding.types) and max(understanding.types, key=understanding.types.__getitem__) == "MONEY"

    def unmet(terms: set[str], span: Span | None) -> tuple[str, ...]:
        """What the question counts ("how many pages") when `terms` (a sentence and its context)
        never name it. An amount that carries its own unit ("7,000 km", "12 %") is exempt, and so
        is a sum of money when money is what the question most likely asks for ("how much money
        …" → "$5 million"): the unit counted in is then written as a symbol or an abbreviation."""
        if not read.counted or meets(read.counted, terms):
            return ()
        if span is not None and (span.label in _UNITS or (span.label == "MONEY" and asks_money)):
            return ()
        return (f"{read.form} {read.counted}",)

    def candidate(
        passage: Passage,
        rank: int,
        sentence: Sentence,
        dense: float,
        order: list[str],
        own: set[str],
        around: set[str],
        said: str,
        context: str,
        polarity: bool,
    ) -> Candidate:
        """A sentence with its features; `order` is its text's terms in order, `own` and `around`
        the terms it states and its context's, `said` and `context` the texts whose numbers it and
        its context state; `polarity` see `Candidate.polarity`."""
        span = best_span(sentence, understanding, q_words, wanted) if expects > 0 or wanted else None
        if wanted and span and span.label in NUMERIC and span_bound(span, sentence.text) == wanted:
            own, around = own | bound_terms, around | bound_terms  # "up to" states the maximum
            span = replace(span, fit=1.0)  # the amount that states the bound asked for fits
            fitted = max(expects, 0.5)
        else:
            fitted = expects
        kind_feature = fitted * (2.0 * (span.fit if span else 0.0) - 1.0)  # a fitting entity, or one missing
        near = 1.0 / (1 + span.gap) if span else 0.0
        named = len(names & own) / len(names) if names else 1.0
        features = np.array(
            [
                dense, coverage(own), coverage(around), named, kind_feature, near, 1.0 / (1 + rank),
                passage.score / top_score if top_score > 0 else 0.0, passage.dense, len(order) / 10,
                _bigrams(q_pairs, order), _spread(q_terms, order),
            ]
        )  # fmt: skip
        probability, ranking = calibration.probability(features), calibration.score(features)
        states = stated(said)
        context_states = states or stated(context)
        return Candidate(
            passage, sentence, features, probability, span, unmet(around, span), ranking, states, context_states,
            polarity,
        )  # fmt: skip

    spelled = {n: _spelled(n) for n in _numbers(question)}
    denied = set(corpus.terms(" ".join(understanding.read.negated)))

    def denial(terms: set[str], text: str) -> tuple[bool, bool]:
        """Whether a text states a word the question's negation denies, and whether it negates."""
        return bool(denied & terms), bool(_NEGATION.search(text))

    def stated(text: str) -> bool:
        """Whether `text` writes every number the question writes, in digits or in words."""
        if not spelled:
            return True
        found, low = _numbers(text), text.lower()
        return all(n in found or (words is not None and words.search(low)) for n, words in spelled.items())

    top_score = max((p.score for p in passages), default=0.0)
    q_pairs = set(zip(q_order, q_order[1:]))
    out = []
    for rank, passage in enumerate(passages):
        sents = passage.chunk.sentences
        title_terms = set() if passage.article.title_derived else set(corpus.terms(passage.article.title))
        orders = [corpus.terms(s.text) for s in sents]
        denials = [denial(set(terms), s.text) for terms, s in zip(orders, sents)] if denied else []
        title_denial = denial(title_terms, passage.article.title) if denied else None
        for k, sentence in enumerate(sents):
            vector = sentence_vectors.get(f"{passage.chunk.id}.{k}")
            dense = float(vector @ query_vector) if vector is not None else passage.dense
            order = orders[k]
            around = set(corpus.terms(" ".join(s.text for s in sents[max(k - 1, 0) : k + 2]))) | title_terms
            # only a question that writes a number reads it
            context = (
                " ".join([*(s.text for s in sents[max(k - 1, 0) : k + 2]), passage.article.title]) if spelled else ""
            )
            polarity = _polarity([*denials[max(k - 1, 0) : k + 2], title_denial])
            out.append(
                candidate(passage, rank, sentence, dense, order, set(order), around, sentence.text, context, polarity)
            )
    seen: set[str] = set()
    for rank, passage in enumerate(passages):  # each article's byline, scored as what it states
        article = passage.article
        if article.byline is None or article.id in seen:
            continue
        seen.add(article.id)
        vector = sentence_vectors.get(byline_id(article))
        if vector is None:
            continue
        sentence = Sentence(article.byline.start, article.byline.end, article.byline.text, article.byline.entities)
        statement = byline_statement(article.title, article.author, article.date, article.outlet)
        own = set(corpus.terms(statement))
        dense = float(vector @ query_vector)
        polarity = _polarity([denial(own, statement)] if denied else [])
        out.append(
            candidate(
                passage, rank, sentence, dense, corpus.terms(sentence.text), own, own, statement, statement, polarity
            )
        )
    return sorted(out, key=lambda c: -c.score)


# Words that negate what a sentence says (a closed class of English function words).
_NEGATION = re.compile(r"\b(?:not|never|no|none|nobody|nothing|neither|nor|without|cannot)\b|n[’']t\b|\bnon-\w", re.I)
_NUMBER = re.compile(r"\d+(?:[,.]\d+)*")


def _written_numbers(text: str) -> list[str]:
    """The numbers written in digits in `text`, as written ("20,000", "1.7")."""
    return _NUMBER.findall(text)


def _numbers(text: str) -> set[str]:
    """The numbers written in digits in `text`, without their thousands separators ("20,000" → "20000")."""
    return {m.replace(",", "") for m in _written_numbers(text)}


def _polarity(denials: Sequence[tuple[bool, bool] | None]) -> bool:
    """False when the texts of a sentence's context that state what the question denies ("did
    not sign": "signed") all state it without a negation: the context says it is so."""
    stating = [negates for states, negates in filter(None, denials) if states]
    return not stating or any(stating)


def _spelled(number: str) -> re.Pattern[str] | None:
    """How English words write a whole number below 100 ("3" → "three" or "third", "21" →
    "twenty-one" or "twenty one"), for finding it in a text; None for other numbers, which
    texts write in digits."""
    if not number.isdigit() or not 0 < int(number) < 100:
        return None
    from num2words.lang_EN import Num2Word_EN

    english = Num2Word_EN()
    forms = {english.to_cardinal(int(number)), english.to_ordinal(int(number))}
    forms |= {f.replace("-", " ") for f in forms}
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, forms), key=len, reverse=True)) + r")\b")


def _bigrams(pairs: set[tuple[str, str]], terms: list[str]) -> float:
    """Share of the question's consecutive term pairs that the sentence has consecutively too."""
    return len(pairs & set(zip(terms, terms[1:]))) / len(pairs) if pairs else 0.0


def _spread(question: set[str], terms: list[str]) -> float:
    """How spread out the question's terms are in the sentence: the span from the first to the
    last one found, per term found (0 when fewer than two are found)."""
    hits = [i for i, t in enumerate(terms) if t in question]
    return (hits[-1] - hits[0] + 1) / len(hits) if len(hits) > 1 else 0.0


def compose(
    question: str,
    ranked: list[Candidate],
    texts: Mapping[str, str],
    min_confidence: float,
    unknown: Sequence[str] = (),
    named: Sequence[str] = (),
    phrase: Callable[[Sentence], Phrase | None] | None = None,
) -> Answer:
    """Turn ranked sentences into an `Answer`, or an abstention when the best is not likely enough,
    the question names something (`unknown`: names, numbers) that the corpus never mentions, or
    no likely sentence says what the question asks about (`Candidate.unmet`; `named` are the
    question's names, for saying what the corpus does mention), or no likely sentence's context
    states a number the question writes (`Candidate.context_states`), or the sentence to cite
    states what the question denies (`Candidate.polarity`). `phrase` finds the short answer in
    a sentence when no entity of the label the question wants leads it (`rag.query.phrases`)."""
    passages = tuple(dict.fromkeys(c.passage for c in ranked))
    ranked = _stating(ranked, min_confidence)
    usable = [c for c in ranked if not c.unmet]
    if unknown:  # said first: what the question names and the corpus never does
        never = ", ".join(unknown)
        return Answer(
            question=question, text=NOT_COVERED, abstained=True, passages=passages,
            confidence=usable[0].probability if usable else 0.0, note=f"The corpus never mentions {never}.",
        )  # fmt: skip
    if ranked and ranked[0].probability >= min_confidence and not (usable and usable[0].probability >= min_confidence):
        return Answer(
            question=question, text=NOT_COVERED, abstained=True, passages=passages,
            confidence=ranked[0].probability, note=_lacking(named, ranked[0].unmet),
        )  # fmt: skip
    top, ranked = ranked, usable
    likely = [c for c in ranked if c.probability >= min_confidence]
    if likely and not any(c.context_states for c in likely):  # no likely answer is about the number asked
        written = ", ".join(dict.fromkeys(_written_numbers(question)))
        return Answer(
            question=question, text=NOT_COVERED, abstained=True, passages=passages,
            confidence=likely[0].probability, note=f"No passage likely to answer this question states {written}.",
        )  # fmt: skip
    if likely and not likely[0].polarity:  # "which did not …": the sentence to cite says it did
        return Answer(
            question=question, text=NOT_COVERED, abstained=True, passages=passages,
            confidence=likely[0].probability,
            note="The question asks what is not the case, but the passage closest to answering it says that it is.",
        )  # fmt: skip
    if not ranked or ranked[0].probability < min_confidence:
        best = ranked[0].probability if ranked else 0.0
        note = _lacking(named, top[0].unmet) if top and top[0].unmet else ""  # say why, when it is known
        return Answer(
            question=question, text=NOT_COVERED, abstained=True, confidence=best, passages=passages, note=note
        )
    best = ranked[0]
    short = best.span if best.span and best.features[FEATURES.index("kind")] >= _LEAD_KIND else None
    chosen = [best] + (_corroborating(best, ranked[1:], min_confidence) if short else [])
    cited = [_citation(c, texts) for c in chosen]
    citations = verified([c for c, cand in zip(cited, chosen) if same_text(c.quote, cand.sentence.text)], texts)
    if not citations or citations[0].start != best.sentence.start:
        return Answer(
            question=question,
            text=NOT_COVERED + " (The best passage could not be verified against its source; re-ingest it.)",
            abstained=True,
            confidence=best.probability,
            passages=passages,
        )
    marks = "".join(f"[{i}]" for i in range(1, len(citations) + 1))
    sentence = best.sentence.text
    # "the maximum": the amount whose qualifier states that bound answers, whatever phrase fits best
    found = phrase(best.sentence) if phrase is not None and not (short and bound(question)) else None
    brief = found.text if found else short.text if short else ""
    agree = short is not None and (found is None or (found.start < short.end and short.start < found.end))
    lead = found.text if found and found.probability >= _LEAD_PHRASE else short.text if agree and short else ""
    conflicts: tuple[Disagreement, ...] = ()
    rival = _disagreeing(best, short, ranked[1:], min_confidence) if short else None
    extra: list[Citation] = []
    if rival is not None and rival.span is not None:  # another source states another value
        extra = verified([c for c in [_citation(rival, texts)] if same_text(c.quote, rival.sentence.text)], texts)
    if short and extra:  # each side leads with the value it states
        lead = brief = short.text
    text = f"{_capital(lead)}: {sentence} {marks}" if lead else f"{sentence} {marks}"
    if short and rival is not None and rival.span is not None and extra:
        citations = [*citations, *extra]
        text = (
            f"{text} {_capital(rival.span.text)}: {rival.sentence.text} [{len(citations)}] The sources differ on this."
        )
        conflicts = (  # each value as its source states it
            Disagreement(short.text, 1, best.passage.article.source),
            Disagreement(rival.span.text, len(citations), rival.passage.article.source),
        )
    other = _contrast(question, best, ranked[1:], min_confidence) if not conflicts else None
    if other is not None:  # a comparison: the second fact, with its own citation
        extra = verified([c for c in [_citation(other, texts)] if same_text(c.quote, other.sentence.text)], texts)
        if extra:
            citations = [*citations, *extra]
            text = f"{text} {other.sentence.text} [{len(citations)}]"
    return Answer(
        question=question,
        text=text,
        citations=tuple(citations),
        confidence=best.probability,
        short_answer=_capital(brief),
        conflicts=conflicts,
        passages=passages,
    )


def _stating(ranked: list[Candidate], min_confidence: float) -> list[Candidate]:
    """A number the question writes ("more than 20,000 soldiers", "in 2024") is a constraint the
    learned ranking barely weighs: the likely sentences that state it come first, best-ranked
    first; a sentence that states it but is too unlikely to answer stays where it ranks."""
    if all(c.states for c in ranked):
        return ranked  # the question writes no number, or every sentence states them
    first = [c for c in ranked if c.states and c.probability >= min_confidence]
    return first + [c for c in ranked if not (c.states and c.probability >= min_confidence)]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lacking(named: Sequence[str], unmet: Sequence[str]) -> str:
    """ "The corpus mentions North Korea, but no passage says how many pages." """
    what = " or ".join(unmet)
    if not named:
        return f"No passage says {what}."
    names = ", ".join(named[:-1]) + f" and {named[-1]}" if len(named) > 1 else named[0]
    return f"The corpus mentions {names}, but no passage says {what}."


_COMPARE = re.compile(r"\b(compare[sd]?|comparison|versus|vs\.?|differ(s|ence|ent)?|contrast)\b", re.I)


def _contrast(question: str, best: Candidate, rest: list[Candidate], min_confidence: float) -> Candidate | None:
    """For a comparison question, the best confident sentence that states a different fact."""
    if not _COMPARE.search(question):
        return None
    for c in sorted(rest, key=lambda c: -c.score):  # the other side need not state the question's numbers
        if c.probability < min_confidence or c.sentence == best.sentence:
            continue
        if best.span and c.span and _norm(c.span.text) == _norm(best.span.text):
            continue
        return c
    return None


def _corroborating(best: Candidate, rest: list[Candidate], min_confidence: float) -> list[Candidate]:
    """Confident sentences from other articles that give the same short answer. An answer without a
    short span is one sentence: nothing else is known to say the same, so it stands alone."""
    out: list[Candidate] = []
    seen = {best.passage.article.id}
    if not best.span:
        return out
    for c in rest:
        if len(out) + 1 >= _MAX_CITATIONS or c.probability < min_confidence or c.passage.article.id in seen:
            continue
        if c.span and _same_value(c.span, best.span):
            out.append(c)
            seen.add(c.passage.article.id)
    return out


def _disagreeing(best: Candidate, short: Span, rest: list[Candidate], min_confidence: float) -> Candidate | None:
    """A confident sentence from another article whose short answer, of the same label as the
    best one's, states another value ("over $1.7 billion" against "up to $1.7 billion")."""
    floor = max(min_confidence, _RIVAL_SHARE * best.probability)
    for c in rest:
        if c.probability < floor or c.passage.article.id == best.passage.article.id:
            continue
        fits = c.features[FEATURES.index("kind")] >= _LEAD_KIND and c.features[FEATURES.index("near")] >= _RIVAL_NEAR
        if c.span and c.span.label == short.label and fits:
            return None if _same_value(c.span, short) else c
    return None


def _same_value(a: Span, b: Span) -> bool:
    """The same value, qualified the same way ("over $1.7 billion" is not "up to $1.7 billion");
    dates agree when the parts both state agree ("Oct. 28" is "October 28", "2024" is "January 2024")."""
    if qualifier(a.text) != qualifier(b.text):
        return False
    if a.label == b.label == "DATE" and (x := _calendar(a.text)) and (y := _calendar(b.text)):
        shared = [(p, q) for p, q in zip(x, y) if p is not None and q is not None]
        return bool(shared) and all(p == q for p, q in shared)
    return _norm(a.text) == _norm(b.text)


def _calendar(text: str) -> tuple[int | None, int | None, int | None] | None:
    """(year, month, day) of a date entity, each None where `text` does not state it; None when it
    states none ("this fall"). Reads the month names of `rag.vocab` and the numbers around them."""
    year = month = day = None
    for word in re.findall(r"[A-Za-z]+|\d+", text):
        if word.isdigit():
            if len(word) == 4:
                year = int(word)
            elif len(word) <= 2 and 1 <= int(word) <= 31:
                day = int(word)
        elif word.lower() in MONTHS:
            month = month_number(word)
    if month is None:
        day = None  # "the 3 biggest" is no day
    return None if (year, month, day) == (None, None, None) else (year, month, day)


def _norm(text: str) -> str:
    return re.sub(r"^(up to|over|more than|about|around|nearly|almost|some|at least)\s+", "", text.lower()).strip()


def _citation(c: Candidate, texts: Mapping[str, str]) -> Citation:
    article = c.passage.article
    text = texts.get(article.id, "")
    return Citation(
        source=article.source,
        title=article.title,
        quote=text[c.sentence.start : c.sentence.end],
        start=c.sentence.start,
        end=c.sentence.end,
        score=round(c.probability, 4),
        article_id=article.id,
    )
