"""`BriefingQA`: the Python API that the CLI, the UI and bots use.

    qa = BriefingQA.open("index")             # an existing index
    qa = BriefingQA(Settings.from_env())      # create on first ingest
    report = qa.ingest(["seeds/"])
    answer = qa.ask("What was the minimum arms estimate?")

Components are passed in or built from `Settings`: the embedding model (default: bundled
MiniLM), the Chroma store, the reader, the answer calibration. No global state; the index opens on first use.

Several processes may share one index (a server answering while `briefing ingest` runs from
cron): every write changes the index's generation token, and each call here first compares the
token with the one it opened; when another process has written, the index is reopened (a local
Chroma folder is read from disk again) before answering. Writers take the index's write lock,
so two ingests never interleave. One object is safe to share between threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.chat.history import History
from rag.chat.session import Chat, Condenser, RuleCondenser, focus_of, following
from rag.config import Settings, corpus_index
from rag.errors import IndexChangedError, InputError, RagError
from rag.index.build import Progress, ingest_paths, remove_paths
from rag.index.encoder import MiniLM, VectorCache, encode
from rag.index.report import IngestReport
from rag.index.store import Store
from rag.index.swap import SwapLock
from rag.ingest.read import as_paths
from rag.llm.client import Endpoint, build_llm
from rag.query.answer import Found
from rag.query.answerer import AnswerContext, Answerer, ExtractiveAnswerer, focus_search, read_corpus
from rag.query.confidence import Confidence
from rag.query.examples import example_questions, spread
from rag.query.question import validate_question
from rag.query.reader import Reader
from rag.query.retrieve import Corpus, retrieve
from rag.types import Answer, AnswerStream, ArticleInfo, Budget, Filters, Focus, Passage, Turn

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.llms import LLM

MAX_TOP_K = 50
QUESTION_VECTORS = 4096  # question vectors a BriefingQA keeps (1.5 KB each): follow-ups and retries recur


class BriefingQA:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: BaseEmbedding | None = None,
        confidence: Confidence | None = None,
        reader: Reader | None = None,
        llm: LLM | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self._embedder = embedder
        self._confidence = confidence
        self.reader = reader or Reader()
        self._question_vectors: VectorCache | None = None
        self._llm = llm if llm is not None else build_llm(self.settings)
        # Who answers, chosen by configuration: the extractive answerer, or a model that falls back to it.
        self.extractive: Answerer = ExtractiveAnswerer(self.settings.min_confidence)
        self.answerer: Answerer = self.extractive
        self.condenser: Condenser = RuleCondenser(self.settings.max_question_chars)
        self.endpoint: Endpoint | None = None  # the model and its provider profile, when one is configured
        if self._llm is not None:
            from rag.chat.session import ModelCondenser
            from rag.llm.generate import LLMAnswerer

            self.endpoint = Endpoint.of(self._llm, self.settings)
            self.answerer = LLMAnswerer(self.endpoint, self.extractive, self.settings.llm_gate)
            self.condenser = ModelCondenser(self.endpoint, RuleCondenser(self.settings.max_question_chars))
        self._corpus: Corpus | None = None
        self._generation = ""  # the index's generation token when `_corpus` was opened
        self._readers = SwapLock()
        self._writing = threading.Lock()  # one writer per process (the store's lock: per index)

    @classmethod
    def open(cls, index_dir: str | os.PathLike[str] = "index", **kwargs: Any) -> BriefingQA:
        """Open an existing index (`IndexNotFoundError` if there is none)."""
        settings = kwargs.pop("settings", None) or Settings.from_env()
        qa = cls(settings.with_(index_dir=Path(index_dir)), **kwargs)
        qa._read(lambda corpus: corpus.empty)  # opens the index: IndexNotFoundError now, not on first use
        return qa

    @classmethod
    def for_corpus(cls, folder: str | os.PathLike[str], **kwargs: Any) -> BriefingQA:
        """The index of its own for the articles in `folder` (`rag.config.corpus_index`), brought
        up to date with them first (unchanged files cost nothing; `InputError` if there is no
        such folder)."""
        if not os.path.isdir(folder):
            raise InputError(f"No such folder: {os.fspath(folder)} — give the folder that holds your articles")
        settings = kwargs.pop("settings", None) or Settings.from_env()
        qa = cls(settings.with_(index_dir=corpus_index(folder)), **kwargs)
        qa.ingest([folder])
        return qa

    # components ------------------------------------------------------------------------------
    @property
    def embedder(self) -> Any:
        """The encoder: the bundled MiniLM (`rag.index.encoder.MiniLM`) unless one was passed in
        (any object with `model_name` and `encode(texts)`, or a llama-index `BaseEmbedding`)."""
        if self._embedder is None:
            self._embedder = MiniLM(embed_batch_size=self.settings.embed_batch_size)
        return self._embedder

    @property
    def question_vectors(self) -> VectorCache:
        """The vectors of questions and of their focus and form phrases, cached: forms ("what",
        "how many") and foci ("what type") recur, and each costs a model run."""
        if self._question_vectors is None:
            self._question_vectors = VectorCache(lambda texts: encode(self.embedder, texts), QUESTION_VECTORS)
        return self._question_vectors

    @property
    def llm(self) -> LLM | None:
        """The language model that writes answers (a llama-index LLM), or None: extractive."""
        return self._llm

    @property
    def confidence(self) -> Confidence:
        """The model that turns what the reader found into the probability that it answers."""
        if self._confidence is None:
            self._confidence = Confidence.load(prior=self.settings.answerable_prior)
        return self._confidence

    # the open index --------------------------------------------------------------------------
    def _fresh(self, create: bool = False, force: bool = False) -> None:
        """Open the index, or reopen it when another process has written to it since."""
        corpus = self._corpus
        if corpus is not None and not force and corpus.store.generation() == self._generation:
            return
        with self._readers.exclusive():
            if self._corpus is not None and not force and self._corpus.store.generation() == self._generation:
                return  # another thread reopened it meanwhile
            if self._corpus is not None:
                self._corpus.store.close()
                self._corpus = None
            corpus = Corpus(
                Store.open(self.settings, self.embedder.model_name, create=create), self.settings.candidates
            )
            self._generation = corpus.store.generation()
            self._corpus = corpus

    @contextmanager
    def _reading(self) -> Iterator[Corpus]:
        """The up-to-date corpus, held open for the duration of the block."""
        self._fresh()
        with self._readers.shared():
            if self._corpus is None:  # pragma: no cover - _fresh() opened it or raised
                raise IndexChangedError("The index was closed while opening it; ask again")
            yield self._corpus

    def _read(self, work: Callable[[Corpus], Any]) -> Any:
        """`work(corpus)`; reopened and tried once more if the index changed under it."""
        try:
            with self._reading() as corpus:
                return work(corpus)
        except IndexChangedError:
            self._fresh(force=True)
            with self._reading() as corpus:
                return work(corpus)

    @property
    def _index(self) -> Corpus:
        self._fresh()
        assert self._corpus is not None
        return self._corpus

    @contextmanager
    def _write(self) -> Iterator[Corpus]:
        """The corpus to write to, under the index's write lock, reopened first if stale."""
        with self._writing:
            self._fresh(create=True)
            assert self._corpus is not None
            with self._corpus.store.write_lock():
                self._fresh(create=True)  # another process may have written while we waited
                corpus = self._corpus
                try:
                    yield corpus
                finally:
                    corpus.refresh()
                    self._generation = corpus.store.generation()

    # API -------------------------------------------------------------------------------------
    def ingest(
        self, paths: Iterable[str | os.PathLike[str]], *, progress: Progress | None = None, sync: bool = False
    ) -> IngestReport:
        """Add or update the articles under `paths`; unchanged ones cost nothing. With `sync`,
        indexed articles under the given folders whose files no longer exist are removed."""
        given = as_paths(paths)
        with self._write() as corpus:
            return ingest_paths(given, corpus.store, self.embedder, self.settings, progress, sync=sync)

    def remove(self, paths: Iterable[str | os.PathLike[str]]) -> IngestReport:
        """Remove the articles whose source is one of `paths` (or under a given folder) from the
        index; the files themselves are left alone. `report.removed` lists the article ids."""
        given = as_paths(paths)
        if not given:
            raise InputError("Nothing to remove: give the article files (or folders) to take out of the index")
        with self._write() as corpus:
            return remove_paths(given, corpus.store)

    def articles(self) -> list[ArticleInfo]:
        """Every indexed article, by source (reads the whole article table: for listing them)."""
        return self._read(lambda corpus: sorted(corpus.articles.values(), key=lambda a: a.source))

    def article_infos(self, ids: Sequence[str]) -> dict[str, ArticleInfo]:
        """The records of the indexed articles among `ids` (what rendering an answer needs; read
        once per generation of the index, never the whole table)."""
        return self._read(lambda corpus: corpus.infos(list(ids)))

    def article_count(self) -> int:
        """How many articles are indexed, without reading their records."""
        return self._read(lambda corpus: corpus.store.article_count())

    def article_text(self, article_id: str) -> str:
        """The original text of an indexed article (what citation offsets point into)."""
        texts = self._read(lambda corpus: corpus.store.article_texts([article_id]))
        if article_id not in texts:
            raise InputError(f"No article {article_id!r} in the index — see: briefing sources")
        return texts[article_id]

    def example_questions(self, n: int = 4, sample: int = 40) -> list[str]:
        """Questions a reader would ask about the people, organisations and places that `sample`
        articles spread over the corpus's folders share most, each shown only when the corpus
        answers it confidently, quoting the name, with no disagreement (`rag.query.examples`)."""
        articles = {a.id: a for a in self.articles()}
        ids = spread([(a.id, a.source) for a in articles.values()], sample)
        folders = [os.path.dirname(articles[i].source) for i in ids]
        return example_questions([self.article_text(i) for i in ids], lambda q: self.ask(q, offline=True), n, folders)

    def retrieve(
        self, question: str, *, filters: Filters | None = None, top_k: int | None = None, mode: str = "hybrid"
    ) -> list[Passage]:
        """The passages an answer is written from; `mode` "dense" or "lexical" for one retriever alone."""
        question = validate_question(question, self.settings.max_question_chars)
        k = self._top_k(top_k)
        vector = self.question_vectors.vectors([question])[0]
        return self._read(
            lambda corpus: self._retrieve(corpus, question, vector, corpus.named(_filters(filters)), k, mode)
        )

    def _retrieve(
        self, corpus: Corpus, question: str, vector: Any, filters: Filters, top_k: int, mode: str = "hybrid"
    ) -> list[Passage]:
        return retrieve(corpus, question, vector, filters, top_k, max(self.settings.candidates, top_k), mode)

    def _top_k(self, top_k: int | None) -> int:
        if top_k is None:
            return self.settings.top_k
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise InputError(f"top_k must be a whole number from 1 to {MAX_TOP_K}, not {top_k!r}")
        return top_k

    def read(
        self, question: str, *, filters: Filters | None = None, top_k: int | None = None, focus: Focus | None = None
    ) -> list[Found]:
        """What the reader found: each retrieved passage's best span, most probable first (a
        follow-up: read with the conversation's `focus`, as `ask` reads it)."""
        return list(self._read_question(question, filters, top_k, focus)[1].found)

    def _read_question(
        self, question: str, filters: Filters | None, top_k: int | None, focus: Focus | None = None
    ) -> tuple[tuple[Passage, ...], AnswerContext]:
        """Retrieve → read, on the up-to-date index: the passages and what the reader found in
        them (a follow-up: with the conversation's `focus`, `rag.query.answerer.read_corpus`)."""
        question = validate_question(question, self.settings.max_question_chars)
        k = self._top_k(top_k)
        if focus is not None and not isinstance(focus, Focus):
            raise InputError(f"focus must be a rag.Focus, not {type(focus).__name__}")
        searches = [question, focus_search(focus, question)] if focus and focus.articles else [question]
        vectors = self.question_vectors.vectors(searches)
        s = self.settings
        return self._read(
            lambda corpus: read_corpus(
                corpus,
                question,
                vectors[0],
                corpus.named(_filters(filters)),
                k,
                s.candidates,
                self.reader,
                self.confidence,
                focus,
                vectors[1] if len(vectors) > 1 else None,
            )
        )

    def ask(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        top_k: int | None = None,
        offline: bool = False,
        budget: Budget | None = None,
        focus: Focus | None = None,
    ) -> Answer:
        """Answer from the corpus with verified quotes, or abstain.

        With a language model (and `offline=False`) the model writes the answer from the same
        passages within `budget` (default: `settings.llm_budget` seconds from now, retries
        included); if it fails, is late or cannot be verified, the extractive answer is returned
        with a note. In a conversation, `focus` is what it is about (`Chat` passes it): the
        answer's `focus` says whether the question was read with it.
        """
        answerer, passages, context = self._prepared(question, filters, top_k, offline, budget, False, focus)
        return context.finished(answerer.answer(question, passages, context=context))

    def ask_stream(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        top_k: int | None = None,
        offline: bool = False,
        budget: Budget | None = None,
        focus: Focus | None = None,
    ) -> AnswerStream:
        """The answer as a stream: iterate for its verified text, then read `.answer`.

        Only verified text is ever yielded: the deltas joined are `answer.text`. A model's reply
        is read from its streaming endpoint; each sentence is sent once it is verified."""

        def run() -> Generator[str, None, Answer]:
            answerer, passages, context = self._prepared(question, filters, top_k, offline, budget, True, focus)
            answer = yield from answerer.stream(question, passages, context=context)
            return context.finished(answer)

        return AnswerStream(run())

    def _prepared(
        self,
        question: str,
        filters: Filters | None,
        top_k: int | None,
        offline: bool,
        budget: Budget | None,
        streaming: bool,
        focus: Focus | None = None,
    ) -> tuple[Answerer, tuple[Passage, ...], AnswerContext]:
        """Who answers, the passages and the context: everything short of writing the answer."""
        passages, context = self._read_question(question, filters, top_k, focus)
        context = replace(context, budget=budget or Budget.of(self.settings), stream=streaming)
        return (self.extractive if offline else self.answerer), passages, context

    def chat(self, session_id: str | None = None, *, filters: Filters | None = None) -> Chat:
        """A conversation; pass `session_id` to resume one."""
        history = History(self.settings.index_dir / "sessions.sqlite3", self.settings.history_turns)
        s = self.settings
        return Chat(
            self,
            self.condenser,
            history,
            session_id,
            filters=filters,
            budget_seconds=s.llm_budget,
            retries=s.llm_retries,
        )

    def focus(self, turns: Sequence[Turn], question: str = "", standalone: str = "") -> Focus | None:
        """What a conversation is about after `turns` (`rag.chat.session.focus_of`; an answer
        known only by its text is placed by its quotes' words), for `question`, the next one, as
        `standalone` searches it (`rag.chat.session.following`)."""

        def source_of(text: str) -> str | None:
            try:
                found = self.retrieve(text[: self.settings.max_question_chars], top_k=1, mode="lexical")
            except RagError:
                return None
            return found[0].article.id if found else None

        return following(focus_of(turns, source_of), question, standalone)

    def ask_many(self, questions: Iterable[str], **kwargs: Any) -> list[Answer]:
        return [self.ask(q, **kwargs) for q in questions]


def _filters(filters: Filters | None) -> Filters:
    if filters is None:
        return Filters()
    if not isinstance(filters, Filters):
        raise InputError(f"filters must be a rag.Filters, not {type(filters).__name__}")
    return filters
