"""Shared normalisation for the reader's training (`python -m train.reader fit --shared K`):
each answerable question read with the paragraphs most like it, its spans competing across them in
one softmax (Clark & Gardner, "Simple and Effective Multi-Paragraph Reading Comprehension", ACL
2018), as the answerer compares the spans of several retrieved passages.
"""

from __future__ import annotations

import random
from dataclasses import replace

from train.data import Example, Neighbours, Settings, encode, negatives


def shared_groups(
    tokenizer, fixed: list[Example], articles: list[dict], settings: Settings, epoch: int, neighbours: Neighbours
) -> list[list[dict]]:
    """Shared normalisation (Clark & Gardner, "Simple and Effective Multi-Paragraph Reading
    Comprehension", ACL 2018): each answerable question is read against its paragraph and
    `settings.shared` of the paragraphs most like it that do not hold the answer (what retrieval
    puts beside the right passage), as one group whose spans compete in one softmax, so that span
    scores compare across passages as the answerer compares them. Each window also keeps its own
    target (the span, or [CLS] for a passage without the answer). SQuAD's unanswerable questions
    and the answer-removed negatives are groups of one window."""
    rng = random.Random(settings.seed * 1000 + epoch)
    groups: list[list[Example]] = []
    for example in fixed:
        if example.start < 0:
            groups.append([example])
            continue
        answer = example.answer.lower()
        near = [
            (title, text)
            for title, text in neighbours.of(example.question, example.context)
            if answer not in text.lower()
        ]
        rng.shuffle(near)
        groups.append(
            [example]
            + [
                Example(t, example.question, text, -1, "", "nearest_paragraph", example.qid)
                for t, text in near[: settings.shared]
            ]
        )
    single = replace(settings, other_paragraph=0.0)
    groups.extend([e] for e in negatives(articles, single, rng, None))
    out = []
    for group in groups:
        windows = encode(tokenizer, group)
        answered = [w for w in windows if w["start"] > 0]
        for w in windows:
            w["shared"] = w is answered[0] if answered else False
        out.append(windows)
    return out


def group_batches(groups: list[list[dict]], size: int, rng: random.Random) -> list[list[dict]]:
    """Shuffled batches of whole groups, about `size` windows each; every window of a batch carries
    its group's number in the batch (`group`)."""
    order = groups[:]
    rng.shuffle(order)
    out, batch = [], []
    for group in order:
        if batch and len(batch) + len(group) > size:
            out.append(batch)
            batch = []
        number = batch[-1]["group"] + 1 if batch else 0
        batch.extend({**w, "group": number} for w in group)
    if batch:
        out.append(batch)
    return out


def shared_loss(start_logits, end_logits, types, mask, batch: list[dict]):
    """The groups' softmax over every passage token of their windows, against the answer's
    start and end (groups without an answer add nothing); the mean over groups, or None."""
    import torch

    context = (types == 1) & (mask == 1)
    losses = []
    for number in sorted({w["group"] for w in batch}):
        rows = [i for i, w in enumerate(batch) if w["group"] == number]
        target = next((i for i in rows if batch[i].get("shared")), None)
        if target is None or len(rows) < 2:
            continue
        for logits, label in ((start_logits, "start"), (end_logits, "end")):
            flat, at = [], None
            offset = 0
            for i in rows:
                positions = context[i].nonzero().squeeze(1)
                if i == target:
                    at = offset + int((positions == batch[i][label]).nonzero()[0])
                flat.append(logits[i, positions])
                offset += len(positions)
            scores = torch.cat(flat)
            losses.append(torch.nn.functional.cross_entropy(scores[None], torch.tensor([at])))
    return torch.stack(losses).mean() if losses else None
