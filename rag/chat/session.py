"""Conversations: follow-up questions rewritten into standalone ones, history kept per session.

    chat = qa.chat()                      # a new session (id in chat.session_id)
    chat = qa.chat(session_id="alice")    # resume one
    chat.ask("What was the minimum estimate of arms shipments?")
    chat.ask("And the maximum?")          # searched with the last turn, read from its article first

A `Chat` takes what it needs: an asker (anything with `ask` / `ask_stream`, such as
`BriefingQA`), a condenser and a history. Without a model the condenser is `RuleCondenser`
(`rag.chat.rewrite`, deterministic); with one, `ModelCondenser` (`rag.llm.generate.condense`,
falling back to the rules if the model fails). The history is bounded and stored in
`index_dir/sessions.sqlite3` (`rag.chat.history`), each turn with the articles its answer cited.

A conversation has a focus (`rag.types.Focus`): the articles the last answer cited and that
turn. Each follow-up, rewritten or not ("What is the deal worth?"), is asked with it: searched
together with the last turn, the focus articles' passages first
(`rag.query.answerer.read_corpus`), unless it names a new subject.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from rag.chat.history import History
from rag.chat.rewrite import is_follow_up, rewrite
from rag.errors import LLMUnavailable
from rag.query.question import validate_question
from rag.types import Answer, AnswerStream, Budget, Filters, Focus, Turn


class Asker(Protocol):
    """What a conversation needs to answer a standalone question (`BriefingQA` is one)."""

    def ask(self, question: str, **kwargs: Any) -> Answer: ...

    def ask_stream(self, question: str, **kwargs: Any) -> AnswerStream: ...


class Condenser(Protocol):
    """Rewrites a follow-up into a standalone question, given the conversation so far."""

    def condense(self, question: str, turns: Sequence[Turn], budget: Budget) -> str: ...


@dataclass(frozen=True)
class RuleCondenser:
    """The deterministic rewriter (`rag.chat.rewrite`): pronouns and fragments."""

    max_question_chars: int = 2000

    def condense(self, question: str, turns: Sequence[Turn], budget: Budget) -> str:
        question = validate_question(question, self.max_question_chars)
        if not turns or not is_follow_up(question):
            return question
        return rewrite(question, turns)


@dataclass(frozen=True)
class ModelCondenser:
    """The configured model rewrites follow-ups; `fallback` does when the model fails."""

    endpoint: Any  # a `rag.llm.client.Endpoint`
    fallback: RuleCondenser

    def condense(self, question: str, turns: Sequence[Turn], budget: Budget) -> str:
        question = validate_question(question, self.fallback.max_question_chars)
        if not turns or not is_follow_up(question):
            return question
        from rag.llm.generate import condense

        try:
            return validate_question(condense(self.endpoint, question, turns, budget), self.fallback.max_question_chars)
        except (LLMUnavailable, ValueError):
            return self.fallback.condense(question, turns, budget)


_QUOTED = re.compile(r"“([^”]+)”")  # the quotes of an answer's text (`rag.query.answer.compose`)
_LEAD = re.compile(r"^([^“\[]+?) (?:\[\d+\])+\.")  # its short answer, before its marks: "$4bn [1]."


def following(focus: Focus | None, question: str, standalone: str = "") -> Focus | None:
    """`focus`, marked `follow_up` when `question` leans on the last turn (`is_follow_up`: a
    pronoun, a fragment, "and …") and asks something else than it did (`standalone`, as it is
    searched). A question of its own ("Who is the study's author?"), or the same question again,
    may well have the last turn's answer again."""
    if focus is None:
        return None
    return replace(focus, follow_up=is_follow_up(question) and standalone.strip() != focus.question.strip())


def focus_of(turns: Sequence[Turn], source_of: Callable[[str], str | None]) -> Focus | None:
    """What a conversation is about after `turns` (`Focus.of`). A client that keeps the
    conversation itself (the HTTP API's) sends the answers' text without their sources: the
    article is then the one the last answer's quotes come from (`source_of(text)`: the article
    whose words best match `text`, or None), and its short answer is the text's lead."""
    focus = Focus.of(turns)
    if focus is not None:
        return focus
    last = next((t for t in reversed(turns[-Focus.FOLLOWS :]) if t.answer and not t.abstained), None)
    if last is None:
        return None
    article = source_of(" ".join(_QUOTED.findall(last.answer)) or last.answer)
    lead = _LEAD.match(last.answer)
    short = last.short_answer or (lead.group(1) if lead else "")
    return Focus((article,), last.standalone_question or last.question, short) if article else None


class Chat:
    """One conversation: each question is condensed with the history, asked, and remembered."""

    def __init__(
        self,
        asker: Asker,
        condenser: Condenser,
        history: History,
        session_id: str | None = None,
        *,
        filters: Filters | None = None,
        budget_seconds: float = 20.0,
        retries: int = 2,
    ) -> None:
        self.asker = asker
        self.condenser = condenser
        self.session_id = session_id or uuid.uuid4().hex
        self.filters = filters
        self._history = history
        self._budget = (budget_seconds, retries)

    @property
    def history(self) -> list[Turn]:
        return self._history.turns(self.session_id)

    def reset(self) -> None:
        self._history.clear(self.session_id)

    def standalone(self, question: str, budget: Budget | None = None) -> str:
        """`question` rewritten with the conversation so far."""
        return self.condenser.condense(question, self.history, budget or Budget.start(*self._budget))

    def ask(self, question: str, **kwargs: Any) -> Answer:
        """One turn; the model budget (rewriting and answering together) is one question's."""
        standalone, asked = self._prepared(question, kwargs)
        return self._remember(question, standalone, self.asker.ask(standalone, **asked))

    def ask_stream(self, question: str, **kwargs: Any) -> AnswerStream:
        """The turn as a stream of verified text; its `.answer` is recorded in the history."""

        def run() -> Generator[str, None, Answer]:
            standalone, asked = self._prepared(question, kwargs)
            stream = self.asker.ask_stream(standalone, **asked)
            yield from stream
            return self._remember(question, standalone, stream.answer)

        return AnswerStream(run())

    def _prepared(self, question: str, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The question condensed with the history, and what to ask it with: the caller's
        arguments, the session's filters and budget, and the conversation's focus."""
        budget = kwargs.pop("budget", None) or Budget.start(*self._budget)
        turns = self.history
        standalone = self.condenser.condense(question, turns, budget)
        filters = kwargs.pop("filters", self.filters)
        focus = following(Focus.of(turns), question, standalone)
        return standalone, {**kwargs, "filters": filters, "budget": budget, "focus": focus}

    def _remember(self, question: str, standalone: str, answer: Answer) -> Answer:
        answer = replace(answer, question=question, standalone_question=standalone)
        self._history.append(
            self.session_id,
            Turn(
                question,
                standalone,
                answer.text,
                answer.short_answer,
                answer.abstained,
                tuple(dict.fromkeys(c.article_id for c in answer.citations if c.article_id)),
            ),
        )
        return answer
