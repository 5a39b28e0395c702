"""One module per chart. Each exposes TABLES (what it reads) and chart(data) -> Altair chart."""
