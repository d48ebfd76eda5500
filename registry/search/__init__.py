"""Search: the home page, /search, /bodies and `GET /api/v1/certificates` (docs/search.md)."""
