"""How well a reader reads: its best span and no-answer score per window, span F1, AUROC and the
abstention curve on held-out articles, for the trained (torch) and the exported (ONNX) model alike.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from pathlib import Path

from train.data import Example, Settings, windows_of, with_history

MAX_ANSWER_TOKENS = 30


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
        """Each window alone, unpadded, as `rag.query.reader` reads it (the int8 model's activation
        scale is one per run): the logits, padded back to the batch's width."""
        import numpy as np

        starts, ends = np.zeros(ids.shape, dtype=np.float32), np.zeros(ids.shape, dtype=np.float32)
        for r in range(len(ids)):
            n = int(mask[r].sum())
            feeds = {
                "input_ids": ids[r : r + 1, :n],
                "token_type_ids": types[r : r + 1, :n],
                "attention_mask": mask[r : r + 1, :n],
            }
            s, e = session.run(None, feeds)
            starts[r, :n], ends[r, :n] = s[0], e[0]
        return starts, ends

    return run
