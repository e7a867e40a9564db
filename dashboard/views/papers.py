"""Papers: filters bound to the URL (so a view can be shared), table, detail, CSV download.

URL parameters: family, venue, category (comma separated or repeated), year_from, year_to,
author, q (full-text search), interests=1 (rank by saved interests), limit, paper (detail).
"""

from __future__ import annotations

from typing import Any, cast

import pandas as pd
import streamlit as st

from core.errors import DlradarError
from dashboard import data
from dashboard.views.common import (
    FAMILIES,
    GUIDANCE_PAPERS,
    db_path,
    md_text,
    safe_url,
    unavailable,
)
from tracker.query import PaperFilter

LIMITS = (50, 100, 200, 500, 1000)
path = db_path()
options = data.filter_options(path)
query = st.query_params


def _listed(name: str) -> list[str]:
    values: list[str] = []
    for raw in query.get_all(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return list(dict.fromkeys(values))


def _int(name: str) -> int | None:
    raw = query.get(name)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _init(key: str, value: Any) -> None:
    # The URL seeds a widget only when the widget has no state of its own yet.
    if key not in st.session_state:
        st.session_state[key] = value


family_choices = list(dict.fromkeys([*(r["family"] for r in options["families"]), *FAMILIES]))
family_choices += [f for f in _listed("family") if f not in family_choices]
venue_choices = [r["venue"] for r in options["venues"]]
venue_choices += [v for v in _listed("venue") if v not in venue_choices]
category_choices = [r["category"] for r in options["categories"]]
category_choices += [c for c in _listed("category") if c not in category_choices]
low, high = options["year_min"], options["year_max"]

_init("papers_family", _listed("family"))
_init("papers_venue", _listed("venue"))
_init("papers_category", _listed("category"))
_init("papers_author", query.get("author", ""))
_init("papers_q", query.get("q", ""))
_init("papers_interests", query.get("interests") in ("1", "true", "yes"))
_init("papers_limit", _int("limit") if _int("limit") in LIMITS else LIMITS[0])
if low is not None and high is not None and low < high:
    start = _int("year_from") or low
    end = _int("year_to") or high
    _init("papers_years", (max(low, min(start, high)), min(high, max(end, low))))

with st.sidebar:
    st.header("Filters")
    families = st.multiselect("Family", family_choices, key="papers_family")
    venues = st.multiselect("Venue", venue_choices, key="papers_venue")
    years: tuple[int, int] | None = None
    if low is not None and high is not None and low < high:
        years = cast(
            tuple[int, int], st.slider("Years", min_value=low, max_value=high, key="papers_years")
        )
    elif low is not None:
        st.caption(f"Every paper is from {low}.")
    categories = st.multiselect("arXiv category", category_choices, key="papers_category")
    author = st.text_input("Author contains", key="papers_author")
    text = st.text_input("Search title and abstract", key="papers_q")
    interests = st.checkbox("Rank by saved interests", key="papers_interests")
    saved = data.saved_interests()
    if interests:
        if any(saved.values()):
            st.caption(
                "Interests (dlradar.toml [interests]): "
                + "; ".join(f"{k}: {', '.join(v)}" for k, v in saved.items() if v)
            )
        else:
            st.caption(
                "No saved interests: add [interests] keywords/families/authors to dlradar.toml."
            )
    limit = st.selectbox("Show at most", LIMITS, key="papers_limit")

year_from, year_to = years if years and years != (low, high) else (None, None)
paper_filter = PaperFilter(
    families=tuple(families),
    venues=tuple(venues),
    year_from=year_from,
    year_to=year_to,
    categories=tuple(categories),
    author=author.strip() or None,
    search=text.strip() or None,
)

# Write the view back to the URL so that it can be shared.
wanted: dict[str, Any] = {
    "family": ",".join(families),
    "venue": venues,
    "category": ",".join(categories),
    "year_from": str(year_from or ""),
    "year_to": str(year_to or ""),
    "author": author.strip(),
    "q": text.strip(),
    "interests": "1" if interests else "",
    "limit": str(limit) if limit != LIMITS[0] else "",
    "paper": query.get("paper", ""),
}
wanted = {k: v for k, v in wanted.items() if v}
current = {k: (query.get_all(k) if k == "venue" else query.get(k)) for k in query}
if current != wanted:
    query.from_dict(wanted)

st.title("Papers")
if options["year_min"] is None:
    st.info(GUIDANCE_PAPERS)
    st.stop()

rows: list[dict[str, Any]]
reason_column = False
try:
    if interests:
        try:
            rows = data.ranked_by_interests(path, paper_filter, int(limit))
            reason_column = True
        except data.Unavailable as exc:
            unavailable(exc)
            rows = [dict(p) for p in data.papers(path, paper_filter, int(limit))[0]]
        total = data.papers(path, paper_filter, 1)[1]
    else:
        found, total = data.papers(path, paper_filter, int(limit))
        rows = [dict(p) for p in found]
except DlradarError as exc:  # a filter the store cannot take (an author of 100k characters)
    st.warning(f"These filters cannot be applied: {md_text(exc)}")
    st.stop()

st.caption(f"{total:,} papers match; showing {len(rows):,}.")
if paper_filter.search:
    from dashboard.data import connect
    from tracker.query import search_note

    with connect(path) as db:
        note = search_note(db, paper_filter.search)
    if note:
        st.caption(note)

table = pd.DataFrame(
    [
        {
            "id": r["id"],
            "title": r["title"],
            "authors": ", ".join(r["authors"]),
            "venue": r["venue"],
            "year": r["year"],
            "published": r["published"],
            "families": ", ".join(r["families"]),
            "categories": ", ".join(r["categories"]),
            "abstract_url": safe_url(r["url"]),
            "pdf_url": safe_url(r["pdf_url"]),
            **({"reason": r.get("reason")} if reason_column else {}),
        }
        for r in rows
    ],
    columns=[
        "id", "title", "authors", "venue", "year", "published", "families", "categories",
        "abstract_url", "pdf_url", *(["reason"] if reason_column else []),
    ],
)  # fmt: skip
# The short, telling columns first: authors and categories are long and go last.
shown_columns = [
    "id", "title", "families", "year", "venue", "abstract_url", "pdf_url", "published",
    *(["reason"] if reason_column else []), "authors", "categories",
]  # fmt: skip
st.dataframe(
    table,
    hide_index=True,
    column_order=shown_columns,
    column_config={
        "id": st.column_config.NumberColumn("id", format="%d", width="small"),
        "title": st.column_config.TextColumn("title", width="large"),
        "year": st.column_config.NumberColumn("year", format="%d"),
        "abstract_url": st.column_config.LinkColumn("abstract", display_text="abstract"),
        "pdf_url": st.column_config.LinkColumn("PDF", display_text="PDF"),
    },
)
st.download_button(
    "Download these papers (CSV)",
    table[shown_columns].to_csv(index=False).encode("utf-8"),
    file_name="dlradar-papers.csv",
    mime="text/csv",
    key="papers_csv",
)

st.subheader("Paper detail")
titles = {r["id"]: r["title"] for r in rows}
linked = query.get("paper")
choices: list[Any] = [None, *titles]
if linked and linked.isdigit() and int(linked) not in titles:
    choices.append(int(linked))
_init("papers_detail", int(linked) if linked and linked.isdigit() else None)
if st.session_state["papers_detail"] not in choices:
    choices.append(st.session_state["papers_detail"])
chosen = st.selectbox(
    "Paper",
    choices,
    key="papers_detail",
    format_func=lambda i: "(choose a paper)" if i is None else f"{i}: {titles.get(i, '')}"[:160],
)
if chosen is None:
    if query.get("paper"):
        del query["paper"]
    st.caption("Choose a paper above to see its families, their evidence and similar papers.")
    st.stop()
query["paper"] = str(chosen)
detail = data.paper(path, str(chosen))
if detail is None:
    st.warning(f"No paper {chosen} in this database.")
    st.stop()

st.text(detail["title"])
st.text(", ".join(detail["authors"]))
meta = [
    f"{detail['venue'] or 'no venue'} {detail['year'] or ''}".strip(),
    f"published {detail['published'] or '—'}",
    f"sources: {', '.join(detail['sources']) or '—'}",
]
st.caption(" · ".join(md_text(part) for part in meta))
links = [("Abstract", safe_url(detail["url"])), ("PDF", safe_url(detail["pdf_url"]))]
cols = st.columns(4)
for col, (label, url) in zip(cols, links, strict=False):
    if url:
        col.link_button(label, url)
if detail["abstract"]:
    with st.expander("Abstract", expanded=True):
        st.text(detail["abstract"])

evidence = detail["family_evidence"]
if evidence:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "family": family,
                    "confidence": info.get("confidence"),
                    "evidence": ", ".join(str(w) for w in info.get("evidence") or []),
                    "tagger": info.get("tagger"),
                }
                for family, info in evidence.items()
            ]
        ),
        hide_index=True,
        column_config={
            "confidence": st.column_config.ProgressColumn("confidence", min_value=0, max_value=1)
        },
    )
else:
    st.caption("No family tagged for this paper (run `dlradar tag`).")

st.markdown("**Similar papers**")
try:
    similar = data.similar(path, int(detail["id"]), 10)
except data.Unavailable as exc:
    unavailable(exc)
else:
    if similar:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "id": p["id"],
                        "score": score,
                        "title": p["title"],
                        "year": p.get("year"),
                        "families": ", ".join(p.get("families") or []),
                    }
                    for p, score in similar
                ]
            ),
            hide_index=True,
        )
    else:
        st.caption("No similar papers found.")
