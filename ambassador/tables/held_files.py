"""Files a citizen attached to a form that was not sent yet, held under the form's submission key."""

from __future__ import annotations

from piccolo.columns import Bytea, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class HeldFile(Table, tablename="held_file"):
    """An attachment that passed its checks, kept until the form is sent or ``expires_at``.

    ``submission_key`` is the random key of the rendered form (``domain.submission``); no
    nomination exists yet, so there is no foreign key. ``domain.held_files`` owns the rules.
    """

    id: Serial
    submission_key = Varchar(length=64, index=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=50)
    size = Integer()
    sha256 = Varchar(length=64)
    content = Bytea(secret=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
