"""The dashboard's pages: each module is a Streamlit script run by dashboard/app.py."""

# (file name without .py, title, icon), in menu order.
PAGES = (
    ("overview", "Overview", ":material/dashboard:"),
    ("papers", "Papers", ":material/article:"),
    ("trends", "Trends", ":material/trending_up:"),
    ("benchmarks", "Benchmarks", ":material/speed:"),
    ("radar", "Radar", ":material/radar:"),
    ("roadmap", "Roadmap", ":material/route:"),
    ("digests", "Digests", ":material/mail:"),
)
