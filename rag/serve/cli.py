"""`briefing` command line: ingest, ask, sources. A thin caller of `BriefingQA`.

    briefing ingest seeds/                 # progress bar; unchanged files cost nothing
    briefing ingest --rebuild seeds/       # drop the index and build it again
    briefing ingest --sync seeds/          # also remove indexed articles whose files are gone
    briefing remove seeds/old.txt          # take an article out of the index (the file stays)
    briefing ask "What was the minimum arms estimate?"
    briefing ask --json "..."              # {"answer", "abstained", "citations": [...]}
    briefing chat [--session ID]           # follow-ups work; /reset, /sources, /quit
    briefing sources                       # what is indexed
    briefing --corpus ~/articles ingest    # a folder of your own, in an index of its own (then ask, chat… with it)

`RagError`s are printed as one line on stderr with exit code 2; nothing else is caught.
`ingest` and `remove` exit with code 3 when they could do nothing (every file skipped, no
such article), after printing the reasons.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.config import Settings, corpus_index
from rag.errors import IndexNotFoundError, InputError, RagError
from rag.qa import MAX_TOP_K, BriefingQA
from rag.types import Answer, Filters


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="briefing", description="Questions over briefing articles, answered with verified quotes."
    )
    p.add_argument("--index", help="index folder (default: $BRIEFING_INDEX_DIR or index/)")
    p.add_argument(
        "--corpus", help="your articles' folder: use its own index (.indexes/NAME-HASH), and ingest it by default"
    )
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="add or update articles (.txt, .md, .html)")
    ing.add_argument("paths", nargs="*", help="files or folders (default: the --corpus folder)")
    ing.add_argument("--rebuild", action="store_true", help="drop the existing index first")
    ing.add_argument("--quiet", action="store_true", help="no progress bar")
    ing.add_argument(
        "--sync", action="store_true", help="also remove indexed articles under these folders whose files are gone"
    )

    rm = sub.add_parser("remove", help="take articles out of the index (the files are left alone)")
    rm.add_argument("paths", nargs="+", help="article files, or folders: every indexed article under them")

    ask = sub.add_parser("ask", help="ask one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--source", action="append", default=[], help="only this source (repeatable)")
    ask.add_argument("--since", type=_date, help="only articles dated on or after YYYY-MM-DD")
    ask.add_argument("--until", type=_date, help="only articles dated on or before YYYY-MM-DD")
    ask.add_argument("--top-k", type=int, help="passages to read")
    ask.add_argument("--offline", action="store_true", help="never ask a language model")

    chat = sub.add_parser("chat", help="a conversation: follow-up questions work (/reset, /sources, /quit)")
    chat.add_argument("--session", help="resume this session id")
    chat.add_argument("--offline", action="store_true", help="never ask a language model")

    ev = sub.add_parser("eval", help="grounded-answer eval (exit 1 below the set's thresholds) or the SQuAD benchmark")
    ev.add_argument("--set", default="eval/seeds.jsonl", help="eval set (JSON lines, see eval/README.md)")
    ev.add_argument("--llm", action="store_true", help="let the configured language model answer (default: extractive)")
    ev.add_argument("--out", default="reports", help="folder for the JSON and HTML reports")
    ev.add_argument("--judge", choices=["lexical", "llm"], default="lexical", help="who judges citation support")
    ev.add_argument("--squad", help="run the SQuAD 2.0 benchmark on this file instead")
    ev.add_argument("--sample", type=int, help="with --squad: how many questions (random, --seed)")
    ev.add_argument("--seed", type=int, default=0)

    sub.add_parser("sources", help="list the indexed articles")
    return p


def _print_answer(answer: Answer) -> None:
    print(answer.text)
    for sentence in answer.unsupported_sentences:
        print(f"  (not supported by any source, left out: {sentence})")
    if answer.note:
        print(f"note: {answer.note}")
    for i, c in enumerate(answer.citations, start=1):
        print(f"\n[{i}] {c.title}\n    {c.source} [{c.start}:{c.end}]\n    “{c.quote}”")


def _sources(qa: BriefingQA) -> None:
    for a in qa.articles():
        date = a.date.isoformat() if a.date else "undated"
        dups = f"  (duplicates: {', '.join(a.duplicates)})" if a.duplicates else ""
        print(f"{a.id}  {date}  {a.chunks} chunks  {a.title}{dups}")


def _chat(qa: BriefingQA, args: argparse.Namespace) -> int:
    qa.article_count()  # no index: say so now, not at the first question
    chat = qa.chat(session_id=args.session)
    model = "extractive (offline)" if args.offline or qa.llm is None else f"model {qa.settings.llm_model}"
    print(f"Session {chat.session_id} · answers: {model} · /reset /sources /quit")
    while True:
        try:
            line = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return 0
        if line == "/reset":
            chat.reset()
            print("(conversation cleared)")
            continue
        if line == "/sources":
            _sources(qa)
            continue
        if line.startswith("/") and " " not in line:
            print(f"briefing: no command {line} — the commands are /reset, /sources and /quit")
            continue
        try:
            answer = chat.ask_stream(line, offline=args.offline).answer
            if answer.standalone_question != line:
                print(f"(searched: {answer.standalone_question})")
            _print_answer(answer)
        except RagError as e:
            print(f"briefing: {e}")


def _eval(qa: BriefingQA, args: argparse.Namespace) -> int:
    from rag.evaluation import report
    from rag.evaluation import runner as evaluate

    out = Path(args.out)
    if args.squad:
        import tempfile

        from rag.evaluation.squad import benchmark

        if args.sample is not None and args.sample < 1:
            raise InputError("--sample must be at least 1")
        if not Path(args.squad).is_file():
            raise InputError(f"No SQuAD file at {args.squad}")
        with tempfile.TemporaryDirectory() as tmp:
            figures = benchmark(Path(args.squad), Path(tmp), sample=args.sample, seed=args.seed, settings=qa.settings)
        flat = {
            f"{name} top-{k}": v[f"gold_paragraph_top{k}"] for name, v in figures["retrieval"].items() for k in (1, 5)
        }
        flat |= {k: v for k, v in figures.items() if isinstance(v, float)}
        report.print_table(
            f"SQuAD 2.0: {figures['questions']} questions ({figures['answerable']} answerable)", flat, {}
        )
        report.print_curve(figures["abstention_curve"], figures["min_confidence"])
        report.write_json(out / "squad.json", figures)
        print(f"wrote {out / 'squad.json'}")
        return 0
    from rag.evaluation.sets import load_set

    eval_set = load_set(args.set)
    if (args.llm or args.judge == "llm") and qa.llm is None:
        raise InputError(
            "--llm and --judge llm need a configured model (OPENAI_BASE_URL + BRIEFING_LLM_MODEL, or OPENAI_API_KEY)"
        )
    judge = evaluate.llm_judge(qa.endpoint, qa.settings) if args.judge == "llm" else None
    rows = evaluate.run(qa, eval_set, offline=not args.llm, judge=judge)
    values = evaluate.metrics(rows)
    categories = evaluate.by_category(rows)
    if args.llm:  # the model next to the extractive answerer, gated on the model's own thresholds
        baseline = evaluate.metrics(evaluate.run(qa, eval_set, offline=True, judge=judge))
        values = {**values, **evaluate.model_metrics(rows)}
        thresholds = eval_set.llm_thresholds
        title = f"eval {eval_set.name} v{eval_set.version} (model {qa.settings.llm_model}, {args.judge} judge)"
        report.print_comparison(title, {"extractive": baseline, "model": values}, thresholds)
    else:
        thresholds = eval_set.thresholds
        title = f"eval {eval_set.name} v{eval_set.version} (extractive, {args.judge} judge)"
        report.print_table(title, values, thresholds)
    failed = evaluate.failures(values, thresholds)
    row_dicts = [report.row_dict(r) for r in rows]
    payload = {"set": eval_set.path, "name": eval_set.name, "version": eval_set.version, "metrics": values,
               "categories": categories, "thresholds": thresholds, "failed": failed, "rows": row_dicts}  # fmt: skip
    stem = f"eval-{eval_set.name}{'-llm' if args.llm else ''}"
    report.write_json(out / f"{stem}.json", payload)
    report.write_html(out / f"{stem}.html", title, values, categories, row_dicts, failed)
    print(f"wrote {out / f'{stem}.json'} and {out / f'{stem}.html'}")
    for line in failed:
        print(f"FAILED: {line}")
    return 1 if failed else 0


def _ingest(qa: BriefingQA, args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    if args.rebuild:
        from rag.index.store import Store

        Store.delete_index(qa.settings)
    if args.quiet:
        report = qa.ingest(args.paths, sync=args.sync)
    else:
        with Progress(
            TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"), transient=True
        ) as bar:
            task = bar.add_task("", total=None)
            report = qa.ingest(
                args.paths,
                progress=lambda done, total, src: bar.update(task, completed=done, total=total, description=src),
                sync=args.sync,
            )
    print(report.summary())
    for s in report.skipped:
        print(f"  skipped {s.source}: {s.reason}")
    for a, b, sim in report.duplicates:
        print(f"  {a} duplicates {b} (similarity {sim:.2f}); both kept and linked")
    for a in report.removed:
        print(f"  removed {a} (its file is gone)")
    if report.indexed == 0 and not report.removed:
        why = "every file was skipped (reasons above)" if report.skipped else "no .txt, .md or .html files found"
        print(f"briefing: nothing was ingested: {why}", file=sys.stderr)
        return 3
    return 0


def _remove(qa: BriefingQA, args: argparse.Namespace) -> int:
    report = qa.remove(args.paths)
    for a in report.removed:
        print(f"removed {a}")
    for s in report.skipped:
        print(f"  {s.source}: {s.reason}")
    if not report.removed:
        print("briefing: nothing was removed", file=sys.stderr)
        return 3
    return 0


def _no_index(args: argparse.Namespace, index_dir: Path) -> str:
    """What to run when there is no index, for the index this command line names."""
    missing = f"No index at {index_dir}/"
    if args.corpus:
        where = f"a folder's index is kept under .indexes/ in the folder briefing runs from, here {os.getcwd()}"
        return f"{missing} — run: briefing --corpus {args.corpus} ingest ({where})"
    if args.index:
        return f"{missing} — run: briefing --index {args.index} ingest FOLDER (the folder of your articles)"
    return f"{missing} — run: briefing ingest seeds/, or name your articles' folder with --corpus DIR"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `briefing ask … | head`: whoever read the output has stopped; nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    overrides = {"index_dir": Path(args.index)} if args.index else {}
    if args.corpus and not args.index:
        overrides = {"index_dir": corpus_index(args.corpus)}
    try:
        if args.corpus and not os.path.isdir(args.corpus):
            raise InputError(f"No such folder: {args.corpus} (--corpus) — give the folder that holds your articles")
        qa = BriefingQA(Settings.from_env(**overrides))
        if args.command == "ingest":
            if not args.paths:
                if not args.corpus:
                    raise InputError("Nothing to ingest: give files or folders, or --corpus DIR")
                args.paths = [args.corpus]
            return _ingest(qa, args)
        if args.command == "remove":
            return _remove(qa, args)
        if args.command == "sources":
            _sources(qa)
            return 0
        if args.command == "chat":
            return _chat(qa, args)
        if args.command == "eval":
            return _eval(qa, args)
        if args.top_k is not None and not 1 <= args.top_k <= MAX_TOP_K:
            raise InputError(f"--top-k must be a whole number from 1 to {MAX_TOP_K}, not {args.top_k}")
        try:
            filters = Filters(sources=tuple(args.source), date_from=args.since, date_to=args.until)
        except ValueError as e:
            raise InputError(str(e)) from None
        answer = qa.ask(args.question, filters=filters, top_k=args.top_k, offline=args.offline)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        else:
            _print_answer(answer)
        return 0
    except IndexNotFoundError:
        index_dir = overrides.get("index_dir") or Settings.from_env().index_dir
        print(f"briefing: {_no_index(args, Path(index_dir))}", file=sys.stderr)
        return 2
    except RagError as e:
        print(f"briefing: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
