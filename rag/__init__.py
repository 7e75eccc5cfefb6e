"""Briefing QA: questions over a corpus of articles, answered with verified quotes."""

from rag.chat.session import Chat
from rag.config import Settings
from rag.errors import (
    ConfigError,
    IndexCorruptError,
    IndexNotFoundError,
    InputError,
    LLMUnavailable,
    RagError,
    SkipFile,
    StoreUnavailableError,
)
from rag.index.report import IngestReport, Skipped
from rag.qa import BriefingQA
from rag.query.answer import Found
from rag.query.confidence import Confidence
from rag.types import (
    Answer,
    Article,
    ArticleInfo,
    Chunk,
    Citation,
    Disagreement,
    Entity,
    Filters,
    Focus,
    Passage,
    Sentence,
    Turn,
)

__all__ = [
    "Answer",
    "Article",
    "ArticleInfo",
    "BriefingQA",
    "Confidence",
    "Chat",
    "Chunk",
    "Citation",
    "ConfigError",
    "Disagreement",
    "Entity",
    "Filters",
    "Focus",
    "Found",
    "IndexCorruptError",
    "IndexNotFoundError",
    "IngestReport",
    "InputError",
    "LLMUnavailable",
    "Passage",
    "RagError",
    "Sentence",
    "Settings",
    "SkipFile",
    "Skipped",
    "StoreUnavailableError",
    "Turn",
]
