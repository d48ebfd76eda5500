"""Tender checks: bulk verification as of an instant, and receipts signed by the registry."""
