"""Briefing QA: questions over a corpus of articles, answered with verified quotes."""

from rag.answer import Calibration
from rag.config import Settings
from rag.errors import (
    ConfigError,
    IndexCorruptError,
    IndexNotFoundError,
    InputError,
    RagError,
    StoreUnavailableError,
)
from rag.qa import BriefingQA
from rag.types import Answer, Article, ArticleInfo, Chunk, Citation, Filters, IngestReport, Passage, Sentence, Skipped

__all__ = [
    "Answer",
    "Article",
    "ArticleInfo",
    "BriefingQA",
    "Calibration",
    "Chunk",
    "Citation",
    "ConfigError",
    "Filters",
    "IndexCorruptError",
    "IndexNotFoundError",
    "IngestReport",
    "InputError",
    "Passage",
    "RagError",
    "Sentence",
    "Settings",
    "Skipped",
    "StoreUnavailableError",
]
