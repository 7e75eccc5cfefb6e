"""The deterministic follow-up rewriter."""

from __future__ import annotations

import pytest

from rag.chat.rewrite import is_follow_up, rewrite
from rag.types import Turn

MIN = Turn("What was the minimum estimate of arms shipments?", "What was the minimum estimate of arms shipments?",
           "Over $1.7 billion: …", "Over $1.7 billion")  # fmt: skip
AUTHOR = Turn("Who wrote the study?", "Who wrote the study?", "Olena Guseinova: “…”", "Olena Guseinova")
MEETINGS = Turn(
    "How many meetings were there in 2024?", "How many meetings were there in 2024?", "Over 24: …", "Over 24"
)
AUTHOR_OF = Turn("Who is the author of the study?", "Who is the author of the study?", "Olena Guseinova: …")
PORT = Turn("How many ferries left Dover on Tuesday?", "How many ferries left Dover on Tuesday?", "Twelve: …")


KOREA = Turn("What did Russia want South Korea to do?", "What did Russia want South Korea to do?", "Reconsider …")


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        # a fragment takes the place of what it stands beside in the last question
        ([MIN], "And the maximum?", "What was the maximum estimate of arms shipments?"),
        ([MIN], "what about the maximum", "What was the maximum estimate of arms shipments?"),
        # …a noun is no adjective: with nothing to swap, it is joined to the last question (the reader reads both)
        ([MIN], "And the cost?", "What was the minimum estimate of arms shipments: the cost?"),
        ([MIN, AUTHOR], "What does she say Russia needs?", "What does Olena Guseinova say Russia needs?"),
        ([MIN, AUTHOR], "What is her main finding?", "What is Olena Guseinova's main finding?"),
        ([MIN, AUTHOR], "When was it published?", "When was the study published?"),
        ([MEETINGS], "And in 2023?", "How many meetings were there in 2023?"),
        ([KOREA], "What about Japan?", "What did Russia want Japan to do?"),
        ([MEETINGS], "And in the past three decades?", "How many meetings were there in the past three decades?"),
        ([PORT], "And in Paris?", "How many ferries left Paris on Tuesday?"),
        ([AUTHOR_OF], "Who published it?", "Who published the study?"),
        ([MIN], "Who made it?", "Who made the minimum estimate of arms shipments?"),
        ([PORT], "What about on Friday?", "How many ferries left Dover on Friday?"),
        ([MIN], "Who is Olena Guseinova?", "Who is Olena Guseinova?"),
        # a name once: the pronouns after it stay, and a pronoun is not a name its own question states
        ([MIN, AUTHOR], "Why did she say her study mattered?", "Why did Olena Guseinova say her study mattered?"),
        ([MIN, AUTHOR], "Did she quote Olena Guseinova?", "Did she quote Olena Guseinova?"),
        ([], "And the maximum?", "And the maximum?"),
    ],
)
def test_rewrites(history: list[Turn], question: str, expected: str) -> None:
    assert rewrite(question, history) == expected


def test_a_party_after_a_party_keeps_its_whole_name_and_the() -> None:
    labour = Turn(*["How much did Labour receive in donations in 2004?"] * 2, "More than £5m: …", "More than £5m")
    tories = rewrite("And the Conservatives?", [labour])
    assert tories == "How much did the Conservatives receive in donations in 2004?"  # an ORG and a NORP swap
    lib = rewrite("And the Liberal Democrats?", [labour, Turn("And the Conservatives?", tories, "£4.6m: …")])
    assert lib == "How much did the Liberal Democrats receive in donations in 2004?"  # not "the Democrats"
    last = Turn("And the Liberal Democrats?", lib, "£2.1m: …", "£2.1m")
    assert rewrite("Who was their largest donor?", [labour, last]) == "Who was the Liberal Democrats' largest donor?"


def test_its_after_a_name_of_its_own_question_stays() -> None:
    show = "How many viewers did the Two Ronnies attract at its peak?"  # a name the small model does not know
    assert rewrite(show, [Turn(*["What did Corbett say about standards of British TV?"] * 2, "…")]) == show


def test_a_pronoun_in_a_clause_of_its_questions_subject_stays() -> None:
    president = Turn(*["Who is the president of France?"] * 2, "Jacques Chirac: …", "Jacques Chirac")
    single = "How much will the Band Aid single raise if it sells 500,000 copies?"
    assert rewrite(single, [president]) == single  # "it" is the single, not France
    assert rewrite("How old was he when he died?", [president]) == "How old was Jacques Chirac when he died?"


def test_full_questions_are_not_follow_ups() -> None:
    assert not is_follow_up("How many troops did North Korea send?")
    assert is_follow_up("And the maximum?")
    assert is_follow_up("When was it published?")


def _turn(question: str, answer: str = "", short_answer: str = "", abstained: bool = False) -> Turn:
    return Turn(
        question, question, answer or "The briefing corpus does not cover this question.", short_answer, abstained
    )


MET = _turn("Where did Ann Lee and Tomas Lind meet?", "Oslo: The two met in Oslo on Monday. [1]", "Oslo")
CANCELLED = _turn("How many ferries were cancelled in Dover?", "Twelve: Twelve ferries were cancelled. [1]", "Twelve")
PRIZE = _turn("Who won the fiction prize at the US National Book Awards?", "Kate Atkinson [1].", "Kate Atkinson")
RACE = _turn("Who won the first race of the season?", "Kim Collins [1].", "Kim Collins")
SPAIN = _turn("Who is representing Spain at the talks?", "Jose Maria Pons [1].", "Jose Maria Pons")
PROFIT = _turn("What was Tesco's profit in 2004?", "£1.6bn [1].", "£1.6bn")
LAW = _turn("Why did the new law fail?", "Too few votes [1].", "Too few votes")
BLAIR = _turn("What did Blair say about the plan?", "It would work [1].", "It would work")


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        # a bare question word is joined to the last question
        ([MIN, AUTHOR], "When?", "Who wrote the study: When?"),
        ([CANCELLED], "And why?", "How many ferries were cancelled in Dover: why?"),
        # "they" for the people the last question named together; "there" stays
        ([MET], "When did they meet there?", "When did Ann Lee and Tomas Lind meet there?"),
        ([MET], "Is there a record of their talks?", "Is there a record of Ann Lee and Tomas Lind's talks?"),
        # an object "it" after a question whose only other noun phrase is a place: the event asked about
        ([CANCELLED], "Who confirmed it?", "Who confirmed that ferries were cancelled in Dover?"),
        # a determiner or a conjunction is no pronoun
        ([AUTHOR], "Who published this report?", "Who published this report?"),
        # "its" and "their" after a name of their own question stand for it, not for the last turn's topic
        (
            [AUTHOR_OF],
            "And who has the Red Cross named as its new director?",
            "And who has the Red Cross named as its new director?",
        ),
        (
            [AUTHOR_OF],
            "Different story: how much do the Liberal Democrats say their plan would save?",
            "Different story: how much do the Liberal Democrats say their plan would save?",
        ),
        # the last answer is a person's name after a title: "he" is that person
        (
            [
                _turn(
                    "Who did Kathy Butler's club appoint as coach?",
                    "Professor Dave Collins [1].",
                    "Professor Dave Collins",
                )
            ],
            "Who did he replace?",
            "Who did Dave Collins replace?",
        ),
        # an answer of two people, or one that only mentions a person, is not who "he" is
        (
            [
                _turn(
                    "Who beat Mark Lewis-Francis in Madrid?",
                    "Maurice Greene and Kim Collins [1].",
                    "Maurice Greene and Kim Collins",
                )
            ],
            "How old is he?",
            "How old is Mark Lewis-Francis?",
        ),
        (
            [
                _turn(
                    "What did Gordon Brown announce?", "After talks with Tony Blair [1].", "After talks with Tony Blair"
                )
            ],
            "When did he say so?",
            "When did Gordon Brown say so?",
        ),
        # a name after the pronoun, an adjective, or "them" binds nothing: the last turn says what they are
        ([AUTHOR_OF], "What did its authors tell Reuters?", "What did the study's authors tell Reuters?"),
        (
            [MET],
            "After the Russian talks, what did they agree?",
            "After the Russian talks, what did Ann Lee and Tomas Lind agree?",
        ),
        ([MET], "What did the UN say about them?", "What did the UN say about Ann Lee and Tomas Lind?"),
        # the noun phrase of the same head noun (its owner stays when the fragment names none)
        ([PRIZE], "And the non-fiction prize?", "Who won the non-fiction prize at the US National Book Awards?"),
        ([PRIZE], "The prize?", "Who won the prize at the US National Book Awards?"),
        ([PROFIT], "And the pre-tax profit?", "What was Tesco's pre-tax profit in 2004?"),
        # an entity of the same kind, also when only the question shows its kind (alone, "Gibraltar" is
        # none, "Prescott" an organisation)
        ([RACE], "And the second?", "Who won the second race of the season?"),
        ([SPAIN], "And Gibraltar?", "Who is representing Gibraltar at the talks?"),
        ([BLAIR], "And Prescott?", "What did Prescott say about the plan?"),
        # more than an order, a remark, nothing of its kind to take the place of: joined
        ([RACE], "And the second leg?", "Who won the first race of the season: the second leg?"),
        ([LAW], "Interesting.", "Why did the new law fail: Interesting?"),
        ([MEETINGS], "In what year?", "How many meetings were there in 2024: In what year?"),  # a date asked for
        ([SPAIN], "And his budget?", "Who is representing Spain at the talks: his budget?"),
        ([SPAIN], "and ?", "Who is representing Spain at the talks: ?"),  # nothing to swap, no error
    ],
)
def test_rewrites_from_the_parse(history: list[Turn], question: str, expected: str) -> None:
    assert rewrite(question, history) == expected
