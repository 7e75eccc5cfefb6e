"""Training questions from news (`train.news`): never from the articles the news evals use, never
from a copy of one of their stories, and cloze questions that keep the sentence whole."""

from __future__ import annotations

from pathlib import Path

from train.news import articles, cloze


def _write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_eval_articles_and_copies_of_their_stories_are_never_read(tmp_path: Path) -> None:
    story = "Ryanair orders 70 new Boeing jets\n\nBudget airline Ryanair has placed an order for 70 Boeing 737-800 jets. The deal is worth about $4bn at list prices.\n"
    _write(tmp_path, "business/001.txt", story)  # an eval article (001-120)
    _write(tmp_path, "business/121.txt", story)  # the same file again
    _write(tmp_path, "business/122.txt", story.replace("orders 70", "buys 70"))  # the story under another headline
    _write(
        tmp_path,
        "business/123.txt",
        "Rain stops play at Lord's\n\nRain meant no play was possible on the second day at Lord's on Friday.\n",
    )
    _write(tmp_path, "business/notes.txt", "not an article\n")
    assert [name for name, _ in articles(tmp_path)] == ["bbc-business-123"]


def test_a_cloze_question_replaces_the_entity_with_its_wh_phrase() -> None:
    sentence = "Kieron Dyer smashed home the winner to end Bolton's unbeaten run."
    assert cloze(sentence, 0, 11, "PERSON") == "Who smashed home the winner to end Bolton's unbeaten run?"
    # worked out by hand: "£10.3m" is characters 18-24
    assert cloze("The council spent £10.3m on the new bridge in May.", 18, 24, "MONEY") == (
        "The council spent how much on the new bridge in May?"
    )


def test_no_question_from_a_cut_name_quoted_speech_or_an_unknown_kind() -> None:
    assert cloze("Alan Milburn accused Mr Howard of producing a fraudulent prospectus.", 24, 30, "PERSON") is None
    assert cloze("Membership of the Geneva-based WTO helps guarantee equal treatment.", 18, 24, "GPE") is None
    assert cloze('"We dug in and the goal came," the Irishman said after the match.', 34, 42, "NORP") is None
    assert cloze("The first ever call over a portable phone was made in 1973 in New York.", 0, 9, "ORDINAL") is None
