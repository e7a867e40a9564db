"""Renders a built digest (the dict dashboard.digest.weekly builds) as Markdown, HTML, text and JSON.

Every piece of paper text (titles, authors, abstracts, venues) is escaped for the format it goes
into, and only http(s) links are emitted, so a hostile title such as `<script>alert(1)</script>`
or `[x](javascript:alert(1))` stays text. The TL;DR and the shortened author list are computed
here too: both are extractive (no text is generated).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

TLDR_MAX_CHARS = 320
AUTHORS_IN_FULL = 5  # longer lists become "A, B, C and N others"
AUTHORS_KEPT = 3

# --- text helpers ----------------------------------------------------------------------------

_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|fig|figs|eq|eqs|resp|approx|w\.r\.t|no|sec)|\b[A-Z])\.$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'$\\])")
# A sentence that says what the paper does, rather than the field's background.
_CONTRIBUTION = re.compile(
    r"\b(?:we|here,? we)\s+(?:\w+ly\s+)?(?:propose|introduce|present|develop|design|show|study|"
    r"investigate|find|demonstrate|describe|address|formulate|provide|build|release|train|"
    r"analy[sz]e|explore|examine|evaluate|construct|leverage|offer|establish|derive|prove|"
    r"report|benchmark|curate|tackle|extend|focus|revisit|identify|argue)\b"
    r"|\b(?:this|the present|our) (?:paper|work|study|article|letter)\b"
    r"|\bin this (?:paper|work|study)\b"
    r"|\b(?:is|are) (?:proposed|presented|introduced|developed|designed)\b",
    re.IGNORECASE,
)


# Openers that point back at the skipped background ("To this end, we propose ...").
_LEAD_IN = re.compile(
    r"^(?:to (?:this end|that end|address (?:this|these|them|it)(?: \w+)?|fill this gap)|here"
    r"|in this (?:paper|work|study)|specifically|therefore|thus|however|motivated by this"
    r"|to (?:bridge|close) this gap|in response)\s*,\s*",
    re.IGNORECASE,
)


# LaTeX text macros that arXiv abstracts keep verbatim ("\\textbf{involuntary jailbreak}").
_LATEX_TEXT = re.compile(r"\\(?:textbf|textit|emph|texttt|textsc|text|mathrm|mathbf)\{([^{}]*)\}")

# Section labels of structured abstracts ("Methods: This study ...").
_LABEL = re.compile(
    r"^(?:background|objectives?|methods?|results?|conclusions?|purpose|aims?|context|motivation)"
    r"\s*:\s*",
    re.IGNORECASE,
)


def split_sentences(text: str) -> list[str]:
    """Sentences of an abstract, not split after abbreviations such as "e.g." or "et al."."""
    text = " ".join((text or "").split())
    if not text:
        return []
    sentences: list[str] = []
    for part in _SENTENCE_END.split(text):
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return sentences


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut}…"


def extractive_tldr(abstract: str, limit: int = TLDR_MAX_CHARS) -> str:
    """The abstract's first contribution sentence (plus the next one when short), clipped.

    Abstracts usually open with background ("X plays a vital role in ..."); the first sentence
    that says "we propose", "this paper", ... is the informative one. Without such a sentence
    the first sentence is used.
    """
    sentences = split_sentences(_LATEX_TEXT.sub(r"\1", abstract))
    if not sentences:
        return ""
    start = next((i for i, s in enumerate(sentences) if _CONTRIBUTION.search(s)), 0)
    chosen = _LABEL.sub("", sentences[start])
    if start > 0:
        trimmed = _LEAD_IN.sub("", chosen)
        chosen = trimmed[:1].upper() + trimmed[1:] if trimmed else chosen
    if len(chosen) < limit // 2 and start + 1 < len(sentences):
        following = _LABEL.sub("", sentences[start + 1])
        if len(chosen) + 1 + len(following) <= limit:
            chosen = f"{chosen} {following}"
    return _clip(chosen, limit)


def shorten_authors(names: list[str]) -> str:
    """ "A", "A and B", "A, B and C", or "A, B, C and N others" beyond AUTHORS_IN_FULL names."""
    names = [" ".join(n.split()) for n in names if n and n.strip()]
    if not names:
        return "unknown authors"
    if len(names) > AUTHORS_IN_FULL:
        rest = len(names) - AUTHORS_KEPT
        return f"{', '.join(names[:AUTHORS_KEPT])} and {rest} others"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def one_line(text: str | None) -> str:
    """Collapse all whitespace (a newline in a title must not start a Markdown block)."""
    return " ".join((text or "").split())


# --- escaping --------------------------------------------------------------------------------

# Enough to stop every inline construct: no link or image without "[", no HTML without "<",
# no entity without "&", no emphasis, code span or table cell. Paper text never starts a line
# (it always follows a list marker or a label), so block markers ("#", "-", "1.") need nothing.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~])")


def md(text: str | None) -> str:
    """Markdown-escape text: every character that could open inline markup gets a backslash."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


def safe_url(url: str | None) -> str | None:
    """The URL when it is http(s), percent-encoded so it cannot close a link; else None."""
    if not url:
        return None
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in {"http", "https"}:
        return None
    return quote(url, safe=":/?#@!$&'*+,;=%~-._")


def h(text: Any) -> str:
    """HTML-escape any value (quotes included, so it is safe in attributes too)."""
    return html.escape(one_line(str(text)) if text is not None else "", quote=True)


def h_note(text: str) -> str:
    """HTML-escape one of dlradar's own notes, showing its `command` spans as <code>."""
    return re.sub(r"`([^`<>]+)`", r"<code>\1</code>", h(text))


def _md_link(label: str, url: str | None) -> str | None:
    target = safe_url(url)
    return f"[{label}]({target})" if target else None


def _html_link(label: str, url: str | None, style: str = "") -> str | None:
    target = safe_url(url)
    if not target:
        return None
    style_attr = f' style="{style}"' if style else ""
    return f'<a href="{h(target)}"{style_attr}>{h(label)}</a>'


# --- shared wording --------------------------------------------------------------------------


def _signed(value: float) -> str:
    return f"+{value:g}" if value > 0 else f"{value:g}"


def trend_wording(row: dict[str, Any]) -> str:
    """'up 20 %', 'down 100 %', 'level' (within 5 %), or 'new: none in the previous 4 weeks'."""
    if row["average"] == 0:
        return "new: none in the previous 4 weeks" if row["count"] else "none"
    change = row["change_pct"]
    if abs(change) < 5:
        return "level"
    return f"{'up' if change > 0 else 'down'} {abs(change):g} %"


def bench_line(change: dict[str, Any]) -> str:
    """One benchmark change as plain text (escaped by the caller)."""
    config = (
        f"{change['model']} {change['backend']}/{change['device']} batch {change['batch_size']}"
        f" threads {change['threads']}"
    )
    p50_a, p50_b = change.get("p50_before"), change.get("p50_now")
    verdict = change["verdict"]
    if verdict == "new":
        return f"{config}: new, p50 {p50_b:.3g} ms" if p50_b is not None else f"{config}: new"
    if verdict == "failed":
        return f"{config}: failed ({change.get('error') or 'see dlradar bench show'})"
    pct = change.get("change_pct")
    shift = f" ({_signed(round(pct, 1))} %)" if pct is not None else ""
    flag = "REGRESSION: " if verdict == "regression" else ""
    return f"{flag}{config}: p50 {p50_a:.3g} -> {p50_b:.3g} ms{shift}, {verdict}"


def more_line(group: dict[str, Any]) -> str:
    return f"... and {group['more']} more (`dlradar bench show` lists every result)"


def _config_lines(data: dict[str, Any]) -> list[str]:
    config = data["config"]
    interests = config["interests"]
    listed = [f"{name} {', '.join(values)}" for name, values in interests.items() if values] or [
        "none saved"
    ]
    return [
        f"Configuration: {config['config_file'] or 'defaults (no dlradar.toml)'}",
        f"Top papers: {config['top_papers']}; interests: {'; '.join(listed)}",
        f"Files: {config['directory']}; paper feeds: {config['feeds_directory']}",
        f"Email: {config['smtp']}",
    ]


HOW_TO_CHANGE = (
    "To change it, edit [digest], [interests] and [smtp] in dlradar.toml (or set"
    " DLRADAR_INTERESTS_KEYWORDS, DLRADAR_DIGEST_TOP_PAPERS, ...; the SMTP password only in"
    " DLRADAR_SMTP_PASSWORD) and check with `dlradar config show`."
)


def _counts_line(data: dict[str, Any]) -> str:
    counts = data["counts"]
    sources = ", ".join(f"{s} {n}" for s, n in counts["by_source"].items()) or "none"
    return (
        f"{counts['papers']} papers published {data['since']} to {data['until']}"
        f" (sources: {sources}); {counts['tagged']} tagged with an architecture family,"
        f" {counts['untagged']} without one; {counts['featured']} featured below"
        f" ({counts['already_featured']} left out: featured in an earlier digest)."
    )


# --- Markdown --------------------------------------------------------------------------------


def render_markdown(data: dict[str, Any]) -> str:
    """The digest as Markdown (GitHub flavour); paper text is escaped, links are http(s) only."""
    out = [f"# dlradar weekly digest: {data['week']}", ""]
    out += [md(_counts_line(data)), "", f"*Ranking:* {md(data['ranking']['description'])}", ""]
    if data["empty"]:
        out += ["## Nothing new this week", "", md(data["nothing_new"]), ""]
    out += ["## Top papers", ""]
    if not data["papers"]:
        out += [md(data["papers_note"]), ""]
    for i, paper in enumerate(data["papers"], 1):
        families = ", ".join(paper["families"]) or "no family"
        links = [
            link
            for link in (_md_link("abs", paper["url"]), _md_link("PDF", paper["pdf_url"]))
            if link
        ]
        out.append(f"{i}. **{md(paper['title'])}**  ")
        out.append(
            f"   {md(paper['authors_short'])} · {md(paper['venue'] or '')} · {md(families)}  "
        )
        out.append(f"   *Why:* {md(paper['reason'])}  ")
        if paper["tldr"]:
            out.append(f"   *TL;DR:* {md(paper['tldr'])}  ")
        out.append(f"   {' · '.join(links) if links else 'no link'}")
        out.append("")
    trends = data["trends"]
    out += ["## Trends", "", md(trends["note"]), ""]
    if trends["families"]:
        out += ["| family | this week | 4-week average | change |", "|---|---:|---:|---|"]
        for row in trends["families"]:
            out.append(
                f"| {md(row['family'])} | {row['count']} | {row['average']:g} |"
                f" {md(trend_wording(row))} |"
            )
        out.append("")
    bench = data["benchmarks"]
    out += ["## Benchmarks", "", md(bench["note"]), ""]
    for group in bench["hardware"]:
        out += [f"On {md(group['hardware'])}:", ""]
        out += [f"- {md(bench_line(c))}" for c in group["changes"]]
        out += [f"- {md(more_line(group))}"] if group["more"] else []
        out.append("")
    out += ["---", ""]
    out += [f"{md(line)}  " for line in _config_lines(data)]
    out += [md(HOW_TO_CHANGE), ""]
    return "\n".join(out)


# --- plain text (the email's text part) ------------------------------------------------------


def render_text(data: dict[str, Any]) -> str:
    """The digest as plain text, for the text/plain part of the email (no escaping needed)."""
    out = [f"dlradar weekly digest: {data['week']}", "=" * 40, "", _counts_line(data), ""]
    out += [f"Ranking: {data['ranking']['description']}", ""]
    if data["empty"]:
        out += ["NOTHING NEW THIS WEEK", data["nothing_new"], ""]
    out += ["TOP PAPERS", ""]
    if not data["papers"]:
        out += [data["papers_note"], ""]
    for i, paper in enumerate(data["papers"], 1):
        out.append(f"{i}. {one_line(paper['title'])}")
        out.append(
            f"   {paper['authors_short']} | {paper['venue'] or ''} | "
            f"{', '.join(paper['families']) or 'no family'}"
        )
        out.append(f"   Why: {paper['reason']}")
        if paper["tldr"]:
            out.append(f"   TL;DR: {paper['tldr']}")
        for label in ("url", "pdf_url"):
            if safe_url(paper[label]):
                out.append(f"   {'abs' if label == 'url' else 'PDF'}: {paper[label]}")
        out.append("")
    out += ["TRENDS", data["trends"]["note"]]
    out += [
        f"  {r['family']:<12} {r['count']:>4}  {trend_wording(r)}"
        for r in data["trends"]["families"]
    ]
    out += ["", "BENCHMARKS", data["benchmarks"]["note"]]
    for group in data["benchmarks"]["hardware"]:
        out.append(f"On {group['hardware']}:")
        out += [f"  - {bench_line(c)}" for c in group["changes"]]
        out += [f"  - {more_line(group)}"] if group["more"] else []
    out += ["", "--", *_config_lines(data), HOW_TO_CHANGE, ""]
    return "\n".join(out)


# --- HTML ------------------------------------------------------------------------------------

_BODY = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328;"
_MUTED = "color:#57606a;font-size:13px;"
_H2 = "font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px;"
_TAG = (
    "display:inline-block;background:#ddf4ff;color:#0969da;border-radius:10px;"
    "padding:0 7px;margin-right:4px;font-size:12px;"
)


def trend_chart_svg(rows: list[dict[str, Any]], width: int = 560) -> str:
    """A small horizontal bar chart: this week's count per family, the 4-week average as a tick."""
    if not rows:
        return ""
    label_w, row_h, top = 96, 22, 24
    plot_w = width - label_w - 50
    peak = max(max(r["count"], r["average"]) for r in rows) or 1
    height = top + row_h * len(rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" font-family="Helvetica,Arial,sans-serif"'
        ' font-size="12">',
        "<title>Papers per family: this week (bars) against the 4-week average (ticks)</title>",
        f'<rect x="{label_w}" y="6" width="10" height="10" fill="#3b6fb6"/>'
        f'<text x="{label_w + 14}" y="15" fill="#57606a">this week</text>'
        f'<rect x="{label_w + 90}" y="4" width="3" height="14" fill="#d1242f"/>'
        f'<text x="{label_w + 98}" y="15" fill="#57606a">4-week average</text>',
    ]
    for i, row in enumerate(rows):
        y = top + i * row_h
        bar = plot_w * row["count"] / peak
        tick = label_w + plot_w * row["average"] / peak
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{h(row["family"])}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="14" fill="#3b6fb6"/>'
            f'<rect x="{tick - 1:.1f}" y="{y}" width="3" height="20" fill="#d1242f"/>'
            f'<text x="{label_w + bar + 6:.1f}" y="{y + 14}" fill="#1f2328">{row["count"]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _html_papers(data: dict[str, Any]) -> list[str]:
    if not data["papers"]:
        return [f'<p style="{_MUTED}">{h(data["papers_note"])}</p>']
    out = ['<ol style="padding-left:22px;margin:0;">']
    for paper in data["papers"]:
        title = h(paper["title"])
        abs_url = safe_url(paper["url"])
        heading = f'<a href="{h(abs_url)}" style="color:#0969da;">{title}</a>' if abs_url else title
        tags = "".join(f'<span style="{_TAG}">{h(f)}</span>' for f in paper["families"])
        no_family = f'<span style="{_MUTED}">no family</span>'
        links = " · ".join(
            link
            for link in (_html_link("abs", paper["url"]), _html_link("PDF", paper["pdf_url"]))
            if link
        )
        out.append(
            '<li style="margin-bottom:16px;">'
            f'<div style="font-size:15px;font-weight:600;">{heading}</div>'
            f'<div style="{_MUTED}">{h(paper["authors_short"])} · {h(paper["venue"] or "")}'
            f" · {h(paper['published'] or '')}</div>"
            f'<div style="margin:3px 0;">{tags or no_family}'
            f' <em style="{_MUTED}">{h(paper["reason"])}</em></div>'
            + (
                f'<div style="font-size:14px;"><strong>TL;DR</strong> {h(paper["tldr"])}</div>'
                if paper["tldr"]
                else ""
            )
            + f'<div style="font-size:13px;">{links}</div></li>'
        )
    out.append("</ol>")
    return out


def _html_trends(trends: dict[str, Any]) -> list[str]:
    out = [f'<p style="{_MUTED}">{h_note(trends["note"])}</p>']
    if not trends["families"]:
        return out
    out.append(trend_chart_svg(trends["families"]))
    out.append(
        '<table style="border-collapse:collapse;font-size:13px;margin-top:8px;">'
        '<tr style="text-align:left;"><th style="padding:2px 10px 2px 0;">family</th>'
        '<th style="padding:2px 10px;">this week</th><th style="padding:2px 10px;">4-week avg</th>'
        '<th style="padding:2px 10px;">change</th></tr>'
    )
    for row in trends["families"]:
        out.append(
            f'<tr><td style="padding:2px 10px 2px 0;">{h(row["family"])}</td>'
            f'<td style="padding:2px 10px;text-align:right;">{row["count"]}</td>'
            f'<td style="padding:2px 10px;text-align:right;">{row["average"]:g}</td>'
            f'<td style="padding:2px 10px;">{h(trend_wording(row))}</td></tr>'
        )
    out.append("</table>")
    return out


def _html_bench(bench: dict[str, Any]) -> list[str]:
    out = [f'<p style="{_MUTED}">{h_note(bench["note"])}</p>']
    for group in bench["hardware"]:
        out.append(
            f'<p style="margin:6px 0 2px;">On {h(group["hardware"])}:</p>'
            '<ul style="font-size:14px;">'
        )
        for change in group["changes"]:
            colour = {"regression": "#d1242f", "improvement": "#1a7f37"}.get(change["verdict"], "")
            style = f' style="color:{colour};"' if colour else ""
            out.append(f"<li{style}>{h(bench_line(change))}</li>")
        if group["more"]:
            out.append(f"<li>{h_note(more_line(group))}</li>")
        out.append("</ul>")
    return out


def render_html(data: dict[str, Any]) -> str:
    """The digest as a self-contained HTML page that is also the email's HTML part."""
    body = [
        f'<h1 style="font-size:24px;margin:0 0 4px;">dlradar weekly digest: {h(data["week"])}</h1>',
        f'<p style="{_MUTED}">{h(_counts_line(data))}<br>'
        f"<strong>Ranking:</strong> {h(data['ranking']['description'])}</p>",
    ]
    if data["empty"]:
        body += [
            f'<h2 style="{_H2}">Nothing new this week</h2>',
            f"<p>{h_note(data['nothing_new'])}</p>",
        ]
    body += [f'<h2 style="{_H2}">Top papers</h2>', *_html_papers(data)]
    body += [f'<h2 style="{_H2}">Trends</h2>', *_html_trends(data["trends"])]
    body += [f'<h2 style="{_H2}">Benchmarks</h2>', *_html_bench(data["benchmarks"])]
    footer = "<br>".join([*(h(line) for line in _config_lines(data)), h_note(HOW_TO_CHANGE)])
    body.append(
        f'<hr style="border:0;border-top:1px solid #d0d7de;margin-top:28px;">'
        f'<p style="{_MUTED}">{footer}</p>'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>dlradar weekly digest {h(data['week'])}</title></head>\n"
        f'<body style="{_BODY}margin:0;padding:0;background:#f6f8fa;">'
        '<div style="max-width:720px;margin:0 auto;padding:24px;background:#ffffff;">\n'
        + "\n".join(body)
        + "\n</div></body></html>\n"
    )


def render_feed_summary(data: dict[str, Any]) -> str:
    """A short HTML fragment for the week's entry in the digest's Atom feed."""
    parts = [f"<p>{h(_counts_line(data))}</p>"]
    if data["empty"]:
        parts.append(f"<p>{h(data['nothing_new'])}</p>")
    if data["papers"]:
        items = []
        for paper in data["papers"]:
            target = safe_url(paper["url"])
            title = h(paper["title"])
            items.append(
                f'<li><a href="{h(target)}">{title}</a></li>' if target else f"<li>{title}</li>"
            )
        parts.append("<ol>" + "".join(items) + "</ol>")
    parts.append(f"<p>{h(data['benchmarks']['note'])}</p>")
    return "".join(parts)


# --- JSON ------------------------------------------------------------------------------------


def render_json(data: dict[str, Any]) -> str:
    """The digest as JSON; <, > and & are \\u-escaped so the file is safe to inline in HTML."""
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"
