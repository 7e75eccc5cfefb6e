"""What a file says about itself apart from its text: YAML front matter at the top of a markdown
file (python-frontmatter, PyYAML's safe loader without aliases) and date values that stand alone
(front matter, page metadata; dateparser, strict)."""

from __future__ import annotations

import datetime as dt

MAX_FRONT_MATTER_CHARS = 16_384

_FIELDS = {"title": "title", "author": "author", "date": "date", "outlet": "outlet", "publisher": "outlet",
           "source": "outlet"}  # fmt: skip


def front_matter(text: str) -> tuple[int, dict[str, str]]:
    """YAML front matter at the top of a markdown file (python-frontmatter) → (body offset, fields).
    Front matter that is not valid YAML, is longer than `MAX_FRONT_MATTER_CHARS` or uses YAML
    aliases (which can expand a few hundred bytes into gigabytes of text) is still cut from the
    body, and says nothing. Only plain values are read: a list of names becomes "A, B"; a nested
    mapping says nothing."""
    import yaml
    from frontmatter import YAMLHandler

    handler = YAMLHandler()
    bom = 1 if text.startswith("\ufeff") else 0  # a byte-order mark before the front matter
    if not handler.detect(text[bom:]):
        return 0, {}
    try:
        raw, body = handler.split(text[bom:])
    except ValueError:
        return 0, {}
    try:
        values = _load_yaml(raw) if len(raw) <= MAX_FRONT_MATTER_CHARS else {}
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError):  # also values YAML cannot build
        values = {}
    fields: dict[str, str] = {}
    for key, value in values.items() if isinstance(values, dict) else ():
        name = _FIELDS.get(str(key).strip().lower()) if isinstance(key, (str, int)) else None
        if name and name not in fields and (plain := _plain(value)):
            fields[name] = plain
    return len(text) - len(body), fields


def _load_yaml(raw: str) -> object:
    """YAML's safe loader, refusing aliases (`yaml.YAMLError`)."""
    import yaml

    class NoAliases(yaml.SafeLoader):
        def compose_node(self, parent, index):  # noqa: ANN001, ANN202 - PyYAML's own signature
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("aliases are not read in front matter")
            return super().compose_node(parent, index)

    def as_written(build):  # noqa: ANN001, ANN202
        """A value YAML cannot build ("2024-02-30", a 5,000-digit number) stays the text it is."""

        def construct(loader, node):  # noqa: ANN001, ANN202
            try:
                return build(loader, node)
            except (ValueError, OverflowError):
                return loader.construct_scalar(node)

        return construct

    for tag, build in (("timestamp", yaml.SafeLoader.construct_yaml_timestamp), ("int", yaml.SafeLoader.construct_yaml_int),
                       ("float", yaml.SafeLoader.construct_yaml_float)):  # fmt: skip
        NoAliases.add_constructor(f"tag:yaml.org,2002:{tag}", as_written(build))
    return yaml.load(raw, Loader=NoAliases)  # noqa: S506 - a SafeLoader subclass


def _plain(value: object) -> str | None:
    """A front-matter value as text: a date, a scalar, or a short list of scalars."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list) and 0 < len(value) <= 20 and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(" ".join(str(v).split()) for v in value)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return " ".join(str(value).split()) or None
    return None


def date_value(value: str) -> dt.date | None:
    """A date given on its own ("2024-03-05T10:00:00Z", "March 5, 2024", "5 Mar 2024"); dateparser,
    strict: a value without day, month and year is no date."""
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        pass
    import dateparser

    settings = {"STRICT_PARSING": True, "REQUIRE_PARTS": ["day", "month", "year"]}
    parsed = dateparser.parse(value, languages=["en"], settings=settings)  # type: ignore[arg-type]
    return parsed.date() if parsed else None
