"""A conversation's focus: follow-ups are read with the story the last answer came from."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rag import BriefingQA, Settings
from rag.chat.history import History
from rag.query.confidence import FEATURES
from rag.serve.render import answer_html
from rag.types import Focus, Turn

ARTICLES = {
    "airline.txt": (
        "Skyway Air expands its fleet\n\n"
        "The budget carrier Skyway Air has ordered 40 Airbus A320 jets in a deal worth $3bn. "
        "The jets are due to be delivered between 2009 and 2011, the airline said on Monday. "
        "Chief executive Mara Quell said the order would create 900 jobs at its base in Leeds.\n"
    ),
    "dam.txt": (
        "Engineers finish the Karun river dam\n\n"
        "Engineers have finished the Karun river dam, a hydro-electric project worth $2bn. "
        "The dam will supply power to 500,000 homes from next spring. "
        "Work on the dam started in 1998 and employed 4,000 people at its peak.\n"
    ),
    "ballet.txt": (
        "Ballerina Ines Varga dies\n\n"
        "The ballerina Ines Varga has died in Vienna at the age of 91. "
        "She was born Ines Varkonyi in Budapest in 1913 and first danced in London in 1931.\n"
    ),
}


@pytest.fixture(scope="module")
def stories(tmp_path_factory: pytest.TempPathFactory) -> BriefingQA:
    root = tmp_path_factory.mktemp("stories")
    folder = root / "news"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    qa = BriefingQA(Settings(index_dir=root / "index"))
    qa.ingest([folder])
    return qa


def _cited(answer) -> set[str]:
    return {Path(c.source).name for c in answer.citations}


def test_a_follow_up_is_answered_from_the_story_the_conversation_is_about(stories: BriefingQA) -> None:
    chat = stories.chat()
    first = chat.ask("How many Airbus jets has Skyway Air ordered?")
    assert "40" in first.short_answer and _cited(first) == {"airline.txt"}
    assert first.focus is None  # a first question has nothing to follow
    worth = chat.ask("What is the deal worth?")  # the dam is "worth $2bn" too
    assert "$3bn" in worth.text and _cited(worth) == {"airline.txt"}
    assert worth.focus is not None and worth.focus.title == "Skyway Air expands its fleet"
    assert worth.to_dict()["about"]["title"] == "Skyway Air expands its fleet"
    shown = answer_html(worth, stories.article_text, lambda i: stories.article_infos([i]).get(i))
    assert 'about: <span class="bq-about-title">Skyway Air expands its fleet</span>' in shown


def test_a_question_that_names_a_new_subject_starts_a_new_focus(stories: BriefingQA) -> None:
    chat = stories.chat()
    chat.ask("How many Airbus jets has Skyway Air ordered?")
    dam = chat.ask("How many homes will the Karun dam supply?")
    assert dam.focus is None and "500,000" in dam.text and _cited(dam) == {"dam.txt"}
    started = chat.ask("When did the work start?")  # no pronoun: the rules leave it, the focus reads it
    assert "1998" in started.text and _cited(started) == {"dam.txt"}
    assert started.focus is not None and started.focus.title == "Engineers finish the Karun river dam"


def test_the_focus_is_saved_with_the_session_and_resumed(stories: BriefingQA) -> None:
    stories.chat(session_id="carol").ask("Where did the ballerina Ines Varga die?")
    again = BriefingQA(stories.settings, embedder=stories.embedder).chat(session_id="carol")
    focus = Focus.of(again.history)
    assert focus is not None and focus.question == "Where did the ballerina Ines Varga die?"
    assert [stories.article_infos(list(focus.articles))[i].source for i in focus.articles] == [
        str(Path(stories.articles()[0].source).parent / "ballet.txt")
    ]
    # a question the reader reads surely: this test is about the focus, not the threshold
    # ("What was her name at birth?" reads at 0.47 to 0.55 as the confidence model is refitted)
    born = again.ask("What name was she born with?")
    assert "Ines Varkonyi" in born.text and _cited(born) == {"ballet.txt"}


def test_a_client_that_keeps_the_conversation_gets_its_focus_from_the_quotes(stories: BriefingQA) -> None:
    said = stories.ask("How many Airbus jets has Skyway Air ordered?")
    turns = [
        Turn("How many Airbus jets has Skyway Air ordered?", "How many Airbus jets has Skyway Air ordered?", said.text)
    ]
    focus = stories.focus(turns)
    assert focus is not None and focus.articles == (said.citations[0].article_id,)
    assert stories.focus([Turn("q", "q", "The briefing corpus does not cover this question.", abstained=True)]) is None
    assert stories.focus([]) is None


def test_focus_of_keeps_the_last_answered_turn_through_a_few_abstentions() -> None:
    answered = Turn("Who?", "Who?", "X [1].", "X", False, ("a",))
    missed = Turn("Why?", "Why?", "The briefing corpus does not cover this question.", "", True, ())
    assert Focus.of([answered, missed, missed]) == Focus(("a",), "Who?", "X")
    assert Focus.of([answered, missed, missed, missed]) is None  # the conversation has moved on
    assert Focus.of([Turn("Who?", "Who?", "X [1].", "X", False, ())]) is None  # nothing cited


def test_a_session_store_written_before_the_focus_is_read_and_extended(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE turns (session TEXT NOT NULL, n INTEGER NOT NULL, question TEXT NOT NULL, standalone TEXT NOT"
        " NULL, answer TEXT NOT NULL, short_answer TEXT NOT NULL DEFAULT '', abstained INTEGER NOT NULL DEFAULT 0,"
        " created REAL NOT NULL, PRIMARY KEY (session, n))"
    )
    con.execute("INSERT INTO turns VALUES ('old', 0, 'Who?', 'Who?', 'X', 'X', 0, 0)")
    con.commit()
    con.close()
    history = History(path)
    assert history.turns("old") == [Turn("Who?", "Who?", "X", "X", False, ())]
    history.append("old", Turn("Why?", "Why?", "Y", "Y", False, ("a~1", "b")))
    assert history.turns("old")[-1].articles == ("a~1", "b")


def test_a_follow_up_ranks_the_story_it_follows_as_the_conversation_places_it(stories: BriefingQA) -> None:
    """A follow-up's passage ranks at its better place in the question's own search and the one
    with the last turn: the story it follows is not marked down because the bare question ("How
    many people will work there?") matches another story's words better, and that story keeps its
    own rank (boosted, not filtered)."""
    rank = FEATURES.index("rank")
    airline = next(a.id for a in stories.articles() if Path(a.source).name == "airline.txt")
    asked = "How many Airbus jets has Skyway Air ordered?"
    focus = Focus.of([Turn(asked, asked, "40 [1].", "40", False, (airline,))])

    def ranks(focus: Focus | None) -> dict[str, float]:
        found = stories.read("How many people will work there?", focus=focus)
        return {Path(f.passage.article.source).name: float(f.features[rank]) for f in found if not f.byline}

    alone, followed = ranks(None), ranks(focus)
    assert alone["dam.txt"] == 1.0  # alone, the dam's "employed 4,000 people" ranks first
    assert alone["airline.txt"] < 1.0
    assert followed["airline.txt"] == 1.0
    assert followed["dam.txt"] == alone["dam.txt"]
