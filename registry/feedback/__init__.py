"""What the public tells the certification bodies: consumer reports (举报) and scan counts.

`reports.py` stores a report from `/v/{number}/report` (its photo re-encoded by
`photos.py`) and lists them for the body; `scans.py` counts the scans of the
verification page per certificate and day and flags spikes; `chart.py` draws
the last 90 days as SVG. The console calls these services too (docs/reports.md).
"""
