"""The reader: the shipped int8 model answers as the trained one did, spans are whole words with
exact offsets, long texts are read in windows, and a damaged model file is refused."""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.query.reader import Reader, whole_words


@pytest.fixture(scope="module")
def reader() -> Reader:
    r = Reader()
    r.load()
    return r


def test_the_int8_model_gives_the_trained_models_answers() -> None:
    """At export, `train/reader.py` recorded the trained (fp32, torch) model's answers on fixed
    inputs; the shipped int8 ONNX model must give the same span on each."""
    reference = json.loads((files("rag.query") / "models" / "reader-reference.json").read_text(encoding="utf-8"))
    assert len(reference) >= 5
    readings = [Reader().read(case["question"], [case["text"]])[0] for case in reference]
    for case, reading in zip(reference, readings):
        at = case["text"].index(case["answer"])
        start, end = whole_words(case["text"], at, at + len(case["answer"]))
        assert (reading.start, reading.end) == (start, end), (case, reading)
        assert (reading.margin > 0) == (case["margin"] > 0)


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("The council spent £10.3m on it.", "10.3", "£10.3m"),  # the unit and the currency stay
        ("Sales reached $9.3bn, it said.", "9.3bn", "$9.3bn"),  # the comma after it goes
        ("He was born in the U.S. in 1950.", "U.S", "U.S."),  # an abbreviation keeps its stop
        ('She said "never again".', "never again", "never again"),  # quote marks at the edges go
        ("(about 40 rooms)", "40", "40"),
        ("since January 2024—an unprecedented pace", "January 2024", "January 2024"),  # an em dash parts words
        ("the 1990–2004 figures", "1990", "1990–2004"),  # an en dash joins a range
    ],
)
def test_spans_are_widened_to_whole_words(text: str, span: str, expected: str) -> None:
    at = text.index(span)
    start, end = whole_words(text, at, at + len(span))
    assert text[start:end] == expected


def test_a_hand_checked_answer_with_exact_offsets(reader: Reader) -> None:
    """Worked out by hand: "£10.3m" starts at character 18 of the text ("The council spent " is 18 characters)."""
    text = "The council spent £10.3m on the new bridge, which opened in May."
    (reading,) = reader.read("How much did the council spend on the bridge?", [text])
    assert (reading.start, reading.end, reading.answer) == (18, 24, "£10.3m") and text[18:24] == "£10.3m"
    assert reading.margin > 0


def test_each_text_gets_its_best_span_and_a_text_without_the_answer_prefers_none(reader: Reader) -> None:
    texts = [
        "The weather was calm all week and fishing boats returned to the quay.",
        "The museum opened on 12 June 1998 after a decade of planning.",
        "",
    ]
    readings = reader.read("When did the museum open?", texts)
    assert [r.source for r in readings] == [0, 1]  # an empty text is not read
    assert "1998" in readings[1].answer and readings[1].margin > readings[0].margin


def test_a_long_text_is_read_in_windows_with_offsets_into_the_whole_text(reader: Reader) -> None:
    filler = " ".join(f"Paragraph {n} says nothing about the bridge." for n in range(60))
    text = f"{filler} The council spent £10.3m on the new bridge. {filler}"
    (reading,) = reader.read("How much did the council spend on the new bridge?", [text])
    assert len(reader.windows("How much did the council spend on the new bridge?", [text])) > 2
    assert text[reading.start : reading.end] == reading.answer == "£10.3m"


def test_a_text_is_read_the_same_whatever_is_read_beside_it(reader: Reader) -> None:
    """Each window is read alone: the int8 model's activation scale is the window's own, not one
    set by the other passages (and the padding) of a batch."""
    question = "When did the museum open?"
    text = "The museum opened on 12 June 1998 after a decade of planning."
    others = ["A much longer text about boats, " * 12, "The quay was rebuilt in 2004 at a cost of £3m."]
    (alone,) = reader.read(question, [text])
    beside = reader.read(question, [others[0], text, others[1]])[1]
    assert (beside.answer, beside.score, beside.null) == (alone.answer, alone.score, alone.null)


def test_skip_passes_over_spans_for_the_next_best_and_a_text_with_no_other_gives_none(reader: Reader) -> None:
    question = "Who opened the museum?"
    texts = ["The mayor, Ann Lee, opened the museum on Monday with the architect Tomas Lind."]
    (best,) = reader.read(question, texts)
    (other,) = reader.read(question, texts, skip=lambda span: "Lee" in span)
    assert "Lee" in best.answer and "Lee" not in other.answer and other.score <= best.score
    assert texts[0][other.start : other.end] == other.answer
    assert reader.read(question, texts, skip=lambda span: True) == []


def test_nothing_to_read_gives_nothing(reader: Reader) -> None:
    assert reader.read("", ["Some text."]) == [] and reader.read("Who?", []) == []


def test_a_model_file_that_does_not_match_its_checksum_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "reader.onnx"
    shutil.copy(Reader().path, copy)
    with copy.open("r+b") as f:
        f.seek(1000)
        f.write(b"\0\1\2\3")
    with pytest.raises(ConfigError, match="checksum"):
        Reader(path=copy).load()
    with pytest.raises(ConfigError, match="missing"):
        Reader(path=tmp_path / "absent.onnx").load()
