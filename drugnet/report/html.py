"""HTML building blocks for the report: escaping, tables, sections and the standalone page."""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;\
color:#1d232a;background:#fafbfc}
header{background:#22313f;color:#fff;padding:16px 32px}
header h1{margin:0;font-size:1.6em}header p{margin:4px 0 0;color:#cfd8e0}
nav{padding:8px 32px;background:#e9eef3;position:sticky;top:0;z-index:2}
nav a{margin-right:18px;color:#22313f;font-weight:600;text-decoration:none}
main{padding:8px 32px 48px}
section.report{margin-top:20px;background:#fff;border:1px solid #dde3ea;border-radius:6px;\
padding:4px 20px 16px}
h2{border-bottom:2px solid #22313f;padding-bottom:4px}
h3{margin-top:22px;color:#22313f}h4{margin:14px 0 6px}
table.data{border-collapse:collapse;font-size:0.85em;margin:6px 0 12px}
table.data th,table.data td{border:1px solid #d5dbe1;padding:3px 8px;text-align:right}
table.data th{background:#eef2f6}
table.data td.text,table.data th.text{text-align:left}
table.data td.best{font-weight:700;background:#e3f4e3}
.note{color:#5b6773;font-size:0.9em}
.missing{color:#8a6d3b;background:#fcf8e3;border:1px solid #faebcc;padding:6px 10px;\
border-radius:4px;display:inline-block}
.figure{margin:8px 0 14px;overflow-x:auto}.figure svg,.figure img{max-width:100%;height:auto}
.grid{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #d5dbe1;border-radius:6px;padding:6px;width:250px;font-size:0.8em;\
background:#fff}
.card svg{display:block;margin:auto}
.card dl{display:grid;grid-template-columns:auto 1fr;gap:1px 8px;margin:4px 0}
.card dt{color:#5b6773}.card dd{margin:0;word-break:break-word}
.verdict{font-weight:600;padding:6px 10px;border-left:4px solid #22313f;background:#eef2f6}
.alert{color:#a94442}
.explain{margin:2px 4px 0;font-size:0.95em;color:#22313f;word-break:break-word}
.legend{font-size:0.85em;color:#5b6773;margin:4px 0 8px}
.swatch{display:inline-block;width:28px;height:11px;border:1px solid #b8c2cc;border-radius:2px;\
margin:0 4px 0 10px;vertical-align:middle}
.unit{margin:4px 0 10px}.unit h4{margin-bottom:2px}
"""


def esc(value: object) -> str:
    """HTML-escaped text of ``value``."""
    return html.escape(str(value), quote=True)


def fmt(value: object, digits: int = 3) -> str:
    """Numbers with ``digits`` significant decimals, blanks for missing values, text as is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 10**-digits):
            return f"{value:.{digits}g}"
        return f"{value:.{digits}f}"
    try:
        if pd.isna(value):  # pandas NA, numpy NaN
            return ""
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalar
        return fmt(value.item(), digits)
    return str(value)


def table(
    frame: pd.DataFrame,
    *,
    digits: int = 3,
    index: bool = False,
    highlight_max: Sequence[str] = (),
    highlight_min: Sequence[str] = (),
    row_best: Sequence[str] = (),
    row_best_is_max: bool = True,
    max_rows: int | None = None,
) -> str:
    """``<table class="data">`` of ``frame``.

    Best value (over rows) of the ``highlight_max``/``highlight_min`` columns in bold (when there
    are at least two rows); ``row_best``: the best value of these columns within each row.
    """
    if index:
        frame = frame.reset_index()
    shown = frame if max_rows is None else frame.head(max_rows)
    best: dict[str, object] = {}
    for cols, pick in ((highlight_max, "max"), (highlight_min, "min")):
        for c in cols:
            if c in shown.columns:
                values = pd.to_numeric(shown[c], errors="coerce")
                if values.notna().sum() > 1:
                    best[c] = getattr(values, pick)()
    row_cols = [c for c in row_best if c in shown.columns]
    numeric = {
        c: pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])
        for c in shown.columns
    }
    head = "".join(
        f'<th class="{"" if numeric[c] else "text"}">{esc(c)}</th>' for c in shown.columns
    )
    rows = []
    for record in shown.itertuples(index=False, name=None):
        cells = []
        in_row = pd.to_numeric(
            pd.Series(
                [v for c, v in zip(shown.columns, record, strict=False) if c in row_cols],
                dtype=object,
            ),
            errors="coerce",
        )
        row_top = (
            (in_row.max() if row_best_is_max else in_row.min())
            if in_row.notna().sum() > 1
            else None
        )
        for c, v in zip(shown.columns, record, strict=False):
            classes = [] if numeric[c] else ["text"]
            good = (c in best and v == best[c]) or (
                row_top is not None and c in row_cols and v == row_top
            )
            if good and v is not None and not _isnan(v):
                classes.append("best")
            cls = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{cls}>{esc(fmt(v, digits))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if max_rows is not None and len(frame) > max_rows:
        more = f'<p class="note">first {max_rows} of {len(frame)} rows</p>'
    return (
        '<table class="data">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
    )


def _isnan(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def missing(what: str) -> str:
    """A visible "not run" note naming what is missing."""
    return f'<p class="missing">not run: {esc(what)}</p>'


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


_XML_PROLOG = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*", re.IGNORECASE)
_SVG_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def inline_svg(svg: str) -> str:
    """SVG text ready to inline in HTML: XML prolog, doctype and comments removed."""
    return _SVG_COMMENT.sub("", _XML_PROLOG.sub("", svg)).strip()


def figure(content: str, caption: str = "") -> str:
    cap = f'<p class="note">{esc(caption)}</p>' if caption else ""
    return f'<div class="figure">{content}{cap}</div>'


def image_file(path: Path, alt: str) -> str:
    """A PNG file as an inline base64 ``<img>``; an SVG file inlined."""
    path = Path(path)
    if path.suffix.lower() == ".svg":
        return inline_svg(path.read_text())
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


@dataclass
class Section:
    """One top-level report section: ``key`` is its HTML id, ``body`` its HTML."""

    key: str
    title: str
    body: str

    def render(self) -> str:
        return (
            f'<section class="report" id="{esc(self.key)}">'
            f"<h2>{esc(self.title)}</h2>\n{self.body}\n</section>"
        )


def page(title: str, subtitle: str, sections: Iterable[Section]) -> str:
    """The standalone HTML document (inline CSS, no scripts, no external resources)."""
    sections = list(sections)
    nav = "".join(f'<a href="#{esc(s.key)}">{esc(s.title)}</a>' for s in sections)
    body = "\n".join(s.render() for s in sections)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head>\n<body>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>\n{body}\n</main></body></html>\n"
    )
