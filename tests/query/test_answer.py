"""Answers over the seeds with the real bundled model: exact quotes, right facts, abstention."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rag import BriefingQA, Settings
from rag.query.answer import NOT_COVERED, Found, answered, chosen_first, compose, rival
from rag.query.confidence import FEATURES, Confidence
from rag.query.reader import Reading
from rag.types import ArticleInfo, Chunk, Entity, Passage, Sentence

ANSWERABLE = {
    "What was the minimum arms estimate?": "$1.7 billion",
    "How many North Korean soldiers would be too many to deploy?": "20,000",
    "What is the highest estimate of North Korean arms sales?": "$5.5 billion",
    "Who is the author of the study?": "Olena Guseinova",
    "Why is Russia turning to North Korea?": "ammunition",
}
OUT_OF_CORPUS = [
    "What did China say about the deal?",
    "What is the capital of France?",
    "Who won the 2018 football World Cup?",
    "What is the interest rate set by the European Central Bank?",
]


@pytest.mark.parametrize("question", sorted(ANSWERABLE))
def test_answers_carry_the_fact_and_exact_quotes(seed_qa: BriefingQA, question: str) -> None:
    answer = seed_qa.ask(question)
    assert not answer.abstained, answer
    assert ANSWERABLE[question] in answer.text
    assert answer.citations
    assert any(ANSWERABLE[question] in c.quote for c in answer.citations)


@pytest.mark.parametrize("question", sorted(ANSWERABLE) + OUT_OF_CORPUS)
def test_every_citation_offset_is_exact_in_the_source_file(seed_qa: BriefingQA, question: str) -> None:
    for c in seed_qa.ask(question).citations:
        with open(c.source, encoding="utf-8") as f:
            assert f.read()[c.start : c.end] == c.quote


@pytest.mark.parametrize("question", OUT_OF_CORPUS)
def test_out_of_corpus_questions_abstain(seed_qa: BriefingQA, question: str) -> None:
    answer = seed_qa.ask(question)
    assert answer.abstained
    assert answer.text == NOT_COVERED
    assert answer.citations == ()


def test_minimum_estimate_reads_as_an_answer(seed_qa: BriefingQA) -> None:
    answer = seed_qa.ask("What was the minimum arms estimate?")
    lead, quote = answer.text.split(" “", 1)
    # the answer, whole, with every citation that states it; then the best quote, with its own mark only
    assert "$1.7 billion" in lead and len(lead) < 40 and lead.endswith(".")
    assert lead.count("[") == len(answer.citations) and quote.endswith("” [1]")
    assert answer.citations[0].quote.replace("'", "’")[:40] in quote.replace("'", "’")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('"Russia is turning east," Olena Guseinova said.', "“‘Russia is turning east,’ Olena Guseinova said.”"),
        ('He called the deal "a disaster.', "“He called the deal ‘a disaster.’”"),  # runs past the sentence
        ('a disaster," he said.', "“‘a disaster,’ he said.”"),  # opened before it
        ("Plain “curly” text.", "“Plain ‘curly’ text.”"),
    ],
)
def test_a_quote_is_shown_between_balanced_marks(text: str, shown: str) -> None:
    from rag.query.answer import _quoted

    assert _quoted(text) == shown


def test_json_schema(seed_qa: BriefingQA) -> None:
    data = seed_qa.ask("What was the minimum arms estimate?").to_dict()
    assert {"answer", "abstained", "citations"} <= set(data)
    assert set(data) <= {"answer", "abstained", "citations", "conflicts", "note", "standalone_question"}
    assert set(data["citations"][0]) == {"source", "title", "quote", "start", "end", "score"}
    for side in data.get("conflicts", []):
        assert set(side) == {"value", "citation", "source"} and 1 <= side["citation"] <= len(data["citations"])


def test_ask_many_keeps_order(seed_qa: BriefingQA) -> None:
    qs = ["What was the minimum arms estimate?", "What is the capital of France?"]
    answers = seed_qa.ask_many(qs)
    assert [a.question for a in answers] == qs
    assert [a.abstained for a in answers] == [False, True]


def test_names_the_corpus_never_mentions_mean_abstention_with_a_note(seed_qa: BriefingQA) -> None:
    answer = seed_qa.ask("How much did Iran earn from drone sales to Russia?")
    assert answer.abstained and answer.note == "The corpus never mentions Iran."
    assert not seed_qa.ask("How many meetings took place in 2024?").abstained


@pytest.mark.xfail(
    strict=True,
    reason="the reader (s1) abstains: its best spans lie in other sentences. r1 passed on its quote alone, "
    "with the wrong short answer 'North Korea' at probability 0.54: this test checks the citation, not the answer",
)
def test_who_is_name_quotes_what_the_corpus_says_of_them(seed_qa: BriefingQA) -> None:
    answer = seed_qa.ask("Who is Olena Guseinova?")
    assert not answer.abstained and "Olena Guseinova" in answer.citations[0].quote


def _corpus_qa(tmp_path_factory: pytest.TempPathFactory, name: str, articles: dict[str, str]) -> BriefingQA:
    """The real model over `articles` (file name → text), ingested into a fresh index."""
    root = tmp_path_factory.mktemp(name)
    for file, text in articles.items():
        (root / file).write_text(text + "\n", encoding="utf-8")
    qa = BriefingQA(Settings(index_dir=root / "index"))
    qa.ingest([root])
    return qa


@pytest.fixture(scope="module")
def terminal_qa(tmp_path_factory: pytest.TempPathFactory) -> BriefingQA:
    """Four short reports with the real model: two disagree on the cost, two agree on the date."""
    articles = {
        "a.txt": "Port opens a terminal\n\nThe port authority said the new container terminal cost $40 million. "
        "It opened on March 3, 2023, after two years of work.",
        "b.txt": "Terminal opening draws crowds\n\nCity officials said the new container terminal cost $65 million. "
        "The terminal opened on 3 March 2023 with a ceremony.",
        "c.txt": "Harbour news\n\nFishing boats returned to the old quay on Monday. The weather was calm all week.",
        "d.txt": "Ferry services resume across the Channel\n\nFerries between Dover and Calais now run every 45 "
        "minutes, the port authority said on Tuesday. The service had been suspended for three days.",
    }
    return _corpus_qa(tmp_path_factory, "terminal", articles)


def test_sources_that_state_different_values_are_both_shown(terminal_qa: BriefingQA) -> None:
    answer = terminal_qa.ask("How much did the new container terminal cost?")
    assert not answer.abstained
    values = sorted(d.value for d in answer.conflicts)
    assert values == ["$40 million", "$65 million"]
    for side in answer.conflicts:
        cited = answer.citations[side.citation - 1]
        assert side.value in cited.quote and cited.source == side.source
        assert f"[{side.citation}]" in answer.text and side.value in answer.text
    assert [c["value"] for c in answer.to_dict()["conflicts"]] == [d.value for d in answer.conflicts]


def test_sources_that_agree_are_cited_together_not_as_a_conflict(terminal_qa: BriefingQA) -> None:
    answer = terminal_qa.ask("When did the new container terminal open?")
    assert not answer.abstained and answer.conflicts == ()
    assert "2023" in answer.text


@pytest.fixture(scope="module")
def harbour_qa(tmp_path_factory: pytest.TempPathFactory) -> BriefingQA:
    """An article with a byline, and a sentence about the author of the report it quotes."""
    articles = {
        "harbour.txt": "Harbour fees rise again\n\nby Maren Solberg March 4, 2025\n\n"
        "Harbour fees in the port rose for the third year, according to a report by the shipping council. "
        "Tomas Lind, the report's author, said smaller ferry operators would feel the rise most.",
    }
    return _corpus_qa(tmp_path_factory, "harbour", articles)


@pytest.mark.xfail(
    strict=True,
    reason="the byline is the reader's first answer, at probability 0.49 under min_confidence 0.5 (r1: "
    "0.53): the question's words ('wrote', 'article') are in no article, so its coverage features read 0",
)
def test_the_byline_answers_who_wrote_the_article_with_exact_offsets(harbour_qa: BriefingQA) -> None:
    """The reader reads the byline's statement ("This article was written by …"); the sentence
    about the report's author is not the article's author."""
    answer = harbour_qa.ask("Who wrote the article?")
    assert not answer.abstained and answer.short_answer == "Maren Solberg"
    first = answer.citations[0]
    assert first.quote.startswith("by Maren Solberg")
    with open(first.source, encoding="utf-8") as f:
        assert f.read()[first.start : first.end] == first.quote


def test_a_question_naming_the_article_by_its_topic_is_answered_by_its_byline(harbour_qa: BriefingQA) -> None:
    """What the question says of the article ("about harbour fees") is in the byline's statement
    (its title), not in the byline itself: the byline's quote is judged on what was read."""
    answer = harbour_qa.ask("Who wrote the article about harbour fees rising again?")
    assert not answer.abstained and answer.short_answer == "Maren Solberg"
    assert answer.citations[0].quote.startswith("by Maren Solberg")


def test_the_author_of_a_report_the_article_quotes_is_not_the_byline(harbour_qa: BriefingQA) -> None:
    answer = harbour_qa.ask("Who is the author of the report?")
    assert not answer.abstained and answer.short_answer == "Tomas Lind"


def test_how_often_is_answered_with_the_frequency_not_a_day(terminal_qa: BriefingQA) -> None:
    answer = terminal_qa.ask("How often do ferries between Dover and Calais run?")
    assert not answer.abstained and not answer.text.startswith("Tuesday")
    assert "45 minutes" in answer.short_answer


@pytest.fixture(scope="module")
def talks_qa(tmp_path_factory: pytest.TempPathFactory) -> BriefingQA:
    """Two years' figures in one article, each year's sentence much like the other; another
    article mentions a third year."""
    articles = {
        "talks.txt": "Talks between the two governments\n\n"
        "Officials from the two governments held regular talks on trade and fishing rights, a spokesman said. "
        "The talks have grown more frequent as the dispute over fishing rights deepened.\n\n"
        "In 2019, the two governments held 4 rounds of talks on fishing rights.\n\n"
        "In 2023, they held 11 rounds of talks, the spokesman said.",
        "staff.txt": "Ministry staff news\n\nThe spokesman joined the foreign ministry in 2021 after three years in "
        "journalism.",
    }
    return _corpus_qa(tmp_path_factory, "talks", articles)


@pytest.mark.parametrize(
    ("question", "value", "year"),
    [
        ("How many rounds of talks on fishing rights did the two governments hold in 2023?", "11", "2023"),
    ],
)
def test_a_number_the_question_writes_picks_the_sentence_that_states_it(
    talks_qa: BriefingQA, question: str, value: str, year: str
) -> None:
    """Each year's sentence is much like the other's: the reader tells them apart by the year."""
    answer = talks_qa.ask(question)
    assert not answer.abstained and answer.short_answer == value
    assert year in answer.citations[0].quote


def test_a_number_the_corpus_never_mentions_is_named_as_the_question_writes_it(talks_qa: BriefingQA) -> None:
    answer = talks_qa.ask("How many rounds of talks were held in 2,031?")
    assert answer.abstained and answer.note == "The corpus never mentions 2,031."


def test_a_name_the_corpus_never_mentions_is_named_whole(talks_qa: BriefingQA) -> None:
    answer = talks_qa.ask("How many rounds of talks did the New Zealand government hold?")
    assert answer.abstained and answer.note == "The corpus never mentions New Zealand."


def _found(article: str, answer: str, probability: float, byline: bool = False, kind: str = "MONEY") -> Found:
    """A `Found` made by hand: one sentence holding `answer` (an entity of `kind`), in its own article."""
    sentence = Sentence(0, len(answer) + 10, f"It was {answer} then.", (Entity(7, 7 + len(answer), kind),))
    info = ArticleInfo(article, f"{article}.txt", article, "hash", 1)
    passage = Passage(Chunk(f"{article}#0", article, 0, (sentence,)), info, 1.0)
    reading = Reading(0, 7, 7 + len(answer), answer, 5.0, 0.0)
    return Found(passage, (sentence,), answer, reading, np.zeros(len(FEATURES)), probability, byline)


@pytest.mark.parametrize(
    ("other", "shown"),
    [
        (("b", "$65 million", 0.92), True),  # another article, as confident, another amount
        (("b", "over $40 million", 0.92), False),  # the same number, qualified otherwise
        (("b", "$65 million", 0.6), False),  # far less confident than the best
        (("a", "$65 million", 0.92), False),  # the same article
        (("b", "the port authority", 0.95), False),  # not a value
        (("b", "65 people", 0.95, False, "CARDINAL"), False),  # a count, not an amount of money
    ],
)
def test_sources_differ_only_when_another_article_states_another_value_as_confidently(
    other: tuple, shown: bool
) -> None:
    best = _found("a", "$40 million", 0.95)
    assert (rival(best, [_found(*other)], 0.5) is not None) == shown
    assert rival(_found("a", "the port authority", 0.95), [_found("b", "the council", 0.95)], 0.5) is None
    # the chosen span need not be the most probable: the rival is measured against the most probable
    assert rival(_found("a", "$40 million", 0.6), [_found("b", "$65 million", 0.95)], 0.5) is not None
    others = [_found("c", "the council", 0.95), _found("b", "$65 million", 0.7)]  # most probable first
    assert rival(_found("a", "$40 million", 0.6), others, 0.5) is None  # 0.7 is far below 0.95
    assert rival(_found("a", "$40 million", 0.45), [_found("b", "$65 million", 0.95)], 0.5) is None  # not confident


def test_the_choice_model_chooses_the_answer_and_the_most_probable_span_decides_abstention() -> None:
    """The span the choice model prefers comes first, the others most probable first; whether to
    answer is the highest probability of any span."""
    n = len(FEATURES)
    weights = (1.0,) + (0.0,) * (n - 1)  # the probability follows the first feature
    choice = (0.0, 1.0) + (0.0,) * (n - 2)  # the choice, the second
    model = Confidence(weights, 0.0, (0.0,) * n, (1.0,) * n, choice=choice)
    spans = []
    for name, first, second in (("a", 2.0, 0.0), ("b", 0.0, 3.0), ("c", 1.0, 1.0)):
        f = _found(name, f"answer {name}", 0.0)
        features = np.zeros(n)
        features[:2] = first, second
        spans.append(replace(f, features=features, probability=model.probability(features)))
    ordered = chosen_first(spans, model)
    assert [f.passage.article.id for f in ordered] == ["b", "a", "c"]
    assert answered(ordered) == pytest.approx(model.probability(spans[0].features))
    answer = compose("q?", ordered, {}, min_confidence=0.5)  # nothing verifiable: abstains, with the best's odds
    assert answer.abstained and answer.confidence == pytest.approx(answered(ordered))
    plain = replace(model, choice=())  # no choice model: the most probable span first
    assert [f.passage.article.id for f in chosen_first(spans, plain)] == ["a", "c", "b"]
    with pytest.raises(ValueError, match="choice"):
        replace(model, choice=(1.0,))
