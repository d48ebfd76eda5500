"""The verification page `/v/{number}` (the QR target), its marks and the page languages."""
