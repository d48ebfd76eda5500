"""Receipts the registry signed, kept so that a printed receipt's QR can lead back to it."""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class VerificationReceipt(Table, tablename="verification_receipt"):
    """One signed receipt (`POST /api/v1/verifications` or the `/verify` page).

    Content-addressed: the key is the receipt's own hash, so the short id a QR
    code carries names exactly one JWS, and whoever holds the file can check
    that it is the one the registry keeps.
    """

    #: base64url (no padding) of SHA-256 over the compact JWS text: 43 characters.
    id = Varchar(length=43, primary_key=True)
    #: The compact JWS exactly as signed: never re-serialised.
    jws = Text()
    as_of = Timestamptz()
    checked_at = Timestamptz()
    #: How many items the request named (duplicates included), for listings.
    item_count = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
