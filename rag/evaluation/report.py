"""Eval reports: a rich table on the terminal, a JSON file and a self-contained HTML page.

The HTML page has the headline metrics, two inline SVG charts (correct answers per category,
latency histogram) and one row per question: question (and what was searched), answer, cited
quotes highlighted in their sentence context, and the verdicts. No JavaScript, no network.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rag.evaluation.runner import Row

_LABELS = {
    "answer_accuracy": "answer accuracy",
    "exact_answers": "exact answers",
    "quote_validity": "quote validity",
    "citation_recall": "citation recall",
    "citation_precision": "citation precision",
    "gold_quote_hit_rate": "gold-quote hit rate",
    "correct_abstention": "correct abstention",
    "false_abstention": "false abstention",
    "paraphrase_consistency": "paraphrase consistency",
    "conversations_right": "conversations right",
    "false_disagreement": '"sources differ" where none do',
    "balanced_marks": "quote marks balanced",
    "units_kept": "amounts keep their units",
    "disagreements_shown": "disagreements shown",
    "latency_p50_ms": "latency p50 (ms)",
    "latency_p95_ms": "latency p95 (ms)",
    "items": "items",
    "model_asked": "model asked",
    "parse_rate": "parse rate",
    "sentences_kept": "sentences kept after verification",
    "quotes_found": "quotes found verbatim",
    "model_answered": "answered by the model",
    "model_p50_ms": "model reply p50 (ms)",
}


def _fmt(value: float | None, name: str) -> str:
    if value is None:
        return "–"
    if name.startswith("latency") or name == "items":
        return f"{value:.0f}" if name == "items" else f"{value:.1f}"
    return f"{value:.3f}"


def print_table(title: str, values: dict[str, float | None], thresholds: dict[str, float]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("threshold", justify="right")
    for name, value in values.items():
        limit = thresholds.get(name)
        table.add_row(_LABELS.get(name, name), _fmt(value, name), "" if limit is None else f"{limit:g}")
    Console().print(table)


def print_comparison(title: str, columns: dict[str, dict[str, float | None]], thresholds: dict[str, float]) -> None:
    """One row per metric, one column per answerer (the extractive one next to the model)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    table.add_column("threshold", justify="right")
    names = list(dict.fromkeys(n for values in columns.values() for n in values))
    for name in names:
        limit = thresholds.get(name)
        cells = [_fmt(values.get(name), name) if name in values else "" for values in columns.values()]
        table.add_row(_LABELS.get(name, name), *cells, "" if limit is None else f"{limit:g}")
    Console().print(table)


def print_curve(points: list[dict[str, float]], chosen: float) -> None:
    """The abstention trade-off, one row per `min_confidence`; the configured one is marked."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="abstention trade-off (min_confidence)")
    for name in ("min_confidence", "abstention on unanswerable", "false abstention", "answered right"):
        table.add_column(name, justify="right")
    for p in points:
        mark = " ←" if abs(p["min_confidence"] - chosen) < 1e-9 else ""
        table.add_row(
            f"{p['min_confidence']:.2f}{mark}",
            f"{p['abstention_unanswerable']:.3f}",
            f"{p['false_abstention']:.3f}",
            f"{p['answered_right']:.3f}",
        )
    Console().print(table)


def row_dict(row: Row) -> dict[str, Any]:
    return {
        "id": row.item.id,
        "category": row.item.category,
        "question": row.item.question,
        "standalone_question": row.answer.standalone_question or row.item.question,
        "answerable": row.item.answerable,
        "answer": row.answer.text,
        "abstained": row.answer.abstained,
        "citations": [c.to_dict() for c in row.answer.citations],
        "facts_found": row.facts_found,
        "correct": row.correct,
        "quote_valid": row.quote_valid,
        "supported": row.supported,
        "relevant": row.relevant,
        "gold_hit": row.gold_hit,
        "ms": round(1000 * row.seconds, 1),
        **({"answered_by": row.answer.answered_by} if row.answer.generation else {}),
        **({"note": row.answer.note} if row.answer.note else {}),
        **(
            {"unsupported_sentences": list(row.answer.unsupported_sentences)}
            if row.answer.unsupported_sentences
            else {}
        ),
        **({"generation": asdict(row.answer.generation)} if row.answer.generation else {}),
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _bars(data: dict[str, float], title: str, width: int = 460) -> str:
    h = 22 * len(data) + 30
    parts = [f'<svg width="{width}" height="{h}" role="img" aria-label="{html.escape(title)}">',
             f'<text x="0" y="14" class="t">{html.escape(title)}</text>']  # fmt: skip
    for i, (label, value) in enumerate(data.items()):
        y = 24 + 22 * i
        w = max(1.0, (width - 190) * value)
        parts.append(f'<text x="0" y="{y + 13}">{html.escape(label)}</text>')
        parts.append(f'<rect x="130" y="{y}" width="{w:.1f}" height="16" class="b"/>')
        parts.append(f'<text x="{136 + w:.1f}" y="{y + 13}">{value:.0%}</text>')
    return "".join(parts) + "</svg>"


def _histogram(ms: list[float], title: str, width: int = 460, bins: int = 12) -> str:
    if not ms:
        return ""
    lo, hi = min(ms), max(ms)
    step = (hi - lo) / bins or 1.0
    counts = [0] * bins
    for v in ms:
        counts[min(bins - 1, int((v - lo) / step))] += 1
    top = max(counts)
    parts = [f'<svg width="{width}" height="170" role="img" aria-label="{html.escape(title)}">',
             f'<text x="0" y="14" class="t">{html.escape(title)}</text>']  # fmt: skip
    bw = (width - 20) / bins
    for i, c in enumerate(counts):
        bh = 110 * c / top
        parts.append(
            f'<rect x="{10 + i * bw:.1f}" y="{135 - bh:.1f}" width="{bw - 2:.1f}" height="{bh:.1f}" class="b"/>'
        )
    parts.append(f'<text x="10" y="155">{lo:.0f} ms</text><text x="{width - 70}" y="155">{hi:.0f} ms</text>')
    return "".join(parts) + "</svg>"


def _answer_cell(r: dict[str, Any]) -> str:
    out = [f"<div>{html.escape(r['answer'])}</div>"]
    for n, c in enumerate(r["citations"], start=1):
        out.append(
            f'<div class="q">[{n}] <mark>{html.escape(c["quote"])}</mark>'
            f' <span class="s">{html.escape(c["source"])} [{c["start"]}:{c["end"]}]</span></div>'
        )
    return "".join(out)


def _verdicts(r: dict[str, Any]) -> str:
    bits = ["✔ correct" if r["correct"] else "✘ wrong"]
    if r["answerable"]:
        bits.append(f"facts {r['facts_found']:.0%}")
        bits.append("gold quote ✔" if r["gold_hit"] else "gold quote ✘")
    if r["supported"]:
        bits.append(f"supported {sum(r['supported'])}/{len(r['supported'])}")
    if r["quote_valid"] and not all(r["quote_valid"]):
        bits.append("INVALID QUOTE")
    bits.append(f"{r['ms']:.0f} ms")
    return "<br>".join(html.escape(b) for b in bits)


def write_html(path: Path, title: str, values: dict[str, float | None], categories: dict[str, dict[str, float | None]],
               rows: list[dict[str, Any]], failed: list[str]) -> None:  # fmt: skip
    cards = "".join(
        f'<div class="card"><div class="v">{_fmt(v, k)}</div><div class="k">{html.escape(_LABELS.get(k, k))}</div></div>'
        for k, v in values.items()
    )
    per_cat = {c: float(m["correct"] or 0.0) for c, m in categories.items()}
    chart = _bars(per_cat, "correct answers per category") + _histogram([r["ms"] for r in rows], "latency per question")
    status = (
        '<p class="ok">All thresholds met.</p>'
        if not failed
        else "<ul class='bad'>" + "".join(f"<li>{html.escape(f)}</li>" for f in failed) + "</ul>"
    )
    body = "".join(
        f'<tr class="{"good" if r["correct"] else "wrong"}"><td>{html.escape(r["id"])}<br><small>{html.escape(r["category"])}</small></td>'
        f"<td>{html.escape(r['question'])}"
        + (
            f"<br><small>searched: {html.escape(r['standalone_question'])}</small>"
            if r["standalone_question"] != r["question"]
            else ""
        )
        + f"</td><td>{_answer_cell(r)}</td><td>{_verdicts(r)}</td></tr>"
        for r in rows
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2333}} .cards{{display:flex;flex-wrap:wrap;gap:10px}}
.card{{border:1px solid #d8dbe8;border-radius:8px;padding:8px 12px;min-width:120px}} .v{{font-size:20px;font-weight:600}} .k{{color:#5a6072}}
svg text{{font-size:12px;fill:#333}} svg .t{{font-weight:600}} svg .b{{fill:#6674d9}} .charts{{display:flex;gap:30px;margin:18px 0}}
table{{border-collapse:collapse;width:100%}} td{{border-top:1px solid #e3e6ef;padding:8px;vertical-align:top}}
tr.wrong td:first-child{{border-left:4px solid #d04040}} tr.good td:first-child{{border-left:4px solid #3a9a5a}}
mark{{background:#ffe47a}} .q{{margin-top:4px;font-size:13px}} .s{{color:#5a6072}} .ok{{color:#2a7a3a}} .bad{{color:#a02020}}</style></head>
<body><h1>{html.escape(title)}</h1>{status}<div class="cards">{cards}</div><div class="charts">{chart}</div>
<table><tr><th>id</th><th>question</th><th>answer and cited quotes</th><th>verdicts</th></tr>{body}</table></body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
