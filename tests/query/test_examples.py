"""Example questions: spread over the corpus's folders, about names its articles share."""

from __future__ import annotations

from rag.query.examples import example_questions, spread
from rag.types import Answer, Citation


def test_the_sample_takes_turns_over_folders_and_spans_each() -> None:
    articles = [(f"{d}-{i:03d}", f"news/{d}/{i:03d}.txt") for d in ("business", "sport", "tech") for i in range(50)]
    picked = spread(articles, 6)
    assert [p.split("-")[0] for p in picked] == ["business", "sport", "tech"] * 2
    assert picked[3] != "business-001"  # not a folder's first few: evenly over it
    assert spread([("a", "x/a.txt"), ("b", "x/b.txt")], 20) == ["a", "b"]


def test_a_name_only_one_article_writes_is_no_example() -> None:
    texts = [f"Gordon Brown spoke in London on day {i}. Yugansk was sold." for i in range(5)]
    texts[0] += " Xavier Quillfeather attended."

    def ask(question: str) -> Answer:
        name = question.removeprefix("What did ").removeprefix("What happened in ").rstrip("?").removesuffix(" say")
        quote = f"{name} spoke."
        return Answer(question, quote, (Citation("a.txt", "t", quote, 0, len(quote)),), confidence=0.9)

    asked = example_questions(texts, ask, n=4)
    assert "What did Gordon Brown say?" in asked
    assert not any("Quillfeather" in q for q in asked)
