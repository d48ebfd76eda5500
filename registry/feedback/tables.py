"""Consumer reports and scan counts: nothing in them names a person."""

from __future__ import annotations

from piccolo.columns import BigInt, Bytea, Date, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ConsumerReport(Table, tablename="consumer_report"):
    """A report (举报) sent from a certificate's verification page."""

    id = Serial(primary_key=True)
    #: The certificate number the report is about (canonical).
    number = Varchar(length=40, index=True)
    #: The code of the body that issued it: the body this report is shown to.
    body_code = Varchar(length=32, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    #: Where it was bought, as the reporter typed it (a shop, a market, a web site).
    bought_where = Varchar(length=200)
    #: What was wrong: one of `registry.feedback.reports.PROBLEMS`.
    problem = Varchar(length=32)
    #: The reporter's own words; may be empty.
    details = Text(default="")
    #: Optional, given only if the reporter chose to (a phone number or an e-mail).
    contact = Varchar(length=200, default="")
    #: The photo re-encoded by the registry (no metadata survives); null when none.
    photo = Bytea(null=True, default=None)
    #: `image/jpeg` or `image/png`; null when there is no photo.
    photo_type = Varchar(length=16, null=True, default=None)
    #: `new` until the body has looked at it, then `seen`.
    status = Varchar(length=8, default="new")


class ScanCount(Table, tablename="scan_count"):
    """How many times a certificate's page was opened on one day (China Standard Time).

    Unique on (number, day): the counts are added by an UPSERT (`scans.flush`).
    """

    id = Serial(primary_key=True)
    number = Varchar(length=40)
    day = Date()
    #: The column is `count`; the attribute is not (`Table.count` is Piccolo's query).
    scans = BigInt(default=0, db_column_name="count")
