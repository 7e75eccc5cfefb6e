"""Our written training questions in SQuAD's format (`train.synthetic`): every answer at its exact
place, unanswerable questions where they look answerable, and every committed file readable."""

from __future__ import annotations

import json

from train.synthetic import SOURCE, WORDS, load, paragraphs, placed, to_squad

ARTICLE = {
    "title": "Mill to close",
    "text": (
        "Mill to close\n\n"
        "The Harwell paper mill in Leeds will close in May with the loss of 300 jobs.\n\n"
        "Its owner, Pennant Group, blamed the cost of pulp, which rose 40% last year.\n\n"
        "The mill opened in 1921."
    ),
    "qas": [
        {"question": "How many people will lose their jobs?", "answer": "300"},
        {"question": "When did the mill open?", "answer": "1921"},
        {"question": "What did the owner pay for pulp in 2003?", "answer": None},
        {"question": "Who runs the mill?", "answer": "not in the text"},
    ],
}


def test_answers_keep_their_exact_place_and_the_headline_is_not_read() -> None:
    article = to_squad(ARTICLE, "mill")
    assert article["title"] == "synthetic: Mill to close"
    contexts = [p["context"] for p in article["paragraphs"]]
    assert not any(c.startswith("Mill to close") for c in contexts)
    answered = [qa for p in article["paragraphs"] for qa in p["qas"] if not qa["is_impossible"]]
    assert [qa["answers"][0]["text"] for qa in answered] == ["300", "1921"]  # an answer not in the text is dropped
    for p in article["paragraphs"]:
        for qa in p["qas"]:
            for a in qa["answers"]:
                assert p["context"][a["answer_start"] : a["answer_start"] + len(a["text"])] == a["text"]


def test_an_unanswerable_question_goes_where_its_words_are() -> None:
    filler = " ".join(["The mill's workers met on Friday to hear the news from their managers."] * 8)
    text = f"Mill to close\n\n{filler}\n\nIts owner blamed the cost of pulp, which rose 40% last year.\n\n{filler}"
    article = to_squad({"text": text, "qas": [{"question": "What did the owner pay for pulp?", "answer": None}]}, "m")
    contexts = [p["context"] for p in article["paragraphs"]]
    assert len(contexts) == 3  # the pulp sentence stands in a passage of its own
    (where,) = [p["context"] for p in article["paragraphs"] if p["qas"]]
    assert "pulp" in where and where != contexts[0]


def test_an_answer_is_found_as_a_whole_word_or_number() -> None:
    assert placed("50", "It cost £250,000, and 50 people came.") == 22
    assert placed("Leicester", "Leicestershire Police, based in Leicester.") == 32
    assert placed("£10.3m", "a loss of £10.3m.") == 10
    assert placed("1921", "It opened in 19210.") == -1


def test_short_paragraphs_are_joined_up_to_a_passage_of_words() -> None:
    body = "\n\n".join(f"Paragraph {i} has exactly six words." for i in range(40))
    pieces = paragraphs(body)
    assert len(pieces) > 1 and all(len(p.split()) <= WORDS for p in pieces)
    assert " ".join(pieces) == " ".join(p for p in body.split("\n\n"))


def test_the_committed_questions_all_load_with_their_answers() -> None:
    files = sorted(SOURCE.glob("*.jsonl"))
    assert files
    written = [json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = load(files)
    assert len(articles) == len(written)
    kept = sum(len(p["qas"]) for a in articles for p in a["paragraphs"])
    assert kept == sum(len(a["qas"]) for a in written)  # no written answer is lost
