"""Conversations: follow-up questions rewritten into standalone ones, history kept per session.

    chat = qa.chat()                      # a new session (id in chat.session_id)
    chat = qa.chat(session_id="alice")    # resume one
    chat.ask("What was the minimum estimate of arms shipments?")
    chat.ask("And the maximum?")          # searched as "What was the maximum estimate of arms shipments?"

Without a model the rewrite is `rag.rewrite` (deterministic); with one, `rag.generate.condense`
(falling back to the deterministic rewrite if the model fails). The history is bounded and
stored in `index_dir/sessions.sqlite3` (`rag.history`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rag.chat.history import History
from rag.chat.rewrite import is_follow_up, rewrite
from rag.errors import LLMUnavailable
from rag.llm.client import Budget
from rag.query.question import validate_question
from rag.types import Answer, Filters, Turn

if TYPE_CHECKING:
    from rag.qa import BriefingQA


class Chat:
    def __init__(self, qa: BriefingQA, session_id: str | None = None, *, filters: Filters | None = None) -> None:
        self.qa = qa
        self.session_id = session_id or uuid.uuid4().hex
        self.filters = filters
        self._history = History(qa.settings.index_dir / "sessions.sqlite3", qa.settings.history_turns)

    @property
    def history(self) -> list[Turn]:
        return self._history.turns(self.session_id)

    def reset(self) -> None:
        self._history.clear(self.session_id)

    def standalone(self, question: str, budget: Budget | None = None) -> str:
        """`question` rewritten with the conversation so far."""
        return standalone(self.qa, question, self.history, budget)

    def ask(self, question: str, **kwargs: Any) -> Answer:
        """One turn; the model budget (rewriting and answering together) is one question's."""
        budget = kwargs.pop("budget", None) or Budget.of(self.qa.settings)
        standalone = self.standalone(question, budget)
        answer = self.qa.ask(standalone, filters=kwargs.pop("filters", self.filters), budget=budget, **kwargs)
        return self._remember(question, standalone, answer)

    def ask_stream(self, question: str, **kwargs: Any) -> Iterator[str | Answer]:
        """Verified text deltas, then the final `Answer` (recorded in the history)."""
        budget = kwargs.pop("budget", None) or Budget.of(self.qa.settings)
        standalone = self.standalone(question, budget)
        filters = kwargs.pop("filters", self.filters)
        for item in self.qa.ask_stream(standalone, filters=filters, budget=budget, **kwargs):
            if isinstance(item, Answer):
                yield self._remember(question, standalone, item)
            else:
                yield item

    def _remember(self, question: str, standalone: str, answer: Answer) -> Answer:
        answer = replace(answer, question=question, standalone_question=standalone)
        self._history.append(
            self.session_id,
            Turn(question, standalone, answer.text, answer.short_answer, answer.abstained),
        )
        return answer


def standalone(qa: BriefingQA, question: str, turns: Sequence[Turn], budget: Budget | None = None) -> str:
    """`question` as a standalone question given earlier `turns`: by the model when one is
    configured (falling back to the deterministic rewriter if it fails), else by `rewrite`."""
    question = validate_question(question, qa.settings.max_question_chars)
    if not turns or not is_follow_up(question):
        return question
    if qa.llm is not None:
        from rag.llm.generate import condense

        try:
            reply = condense(qa.llm, question, turns, budget or Budget.of(qa.settings))
            return validate_question(reply, qa.settings.max_question_chars)
        except (LLMUnavailable, ValueError):
            pass
    return rewrite(question, turns)
