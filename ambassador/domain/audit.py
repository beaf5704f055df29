"""The append-only, keyed and anchored audit log (docs/audit.md; ASVS 16.4.2, 16.2.1, 16.4.3).

Every entry stores the previous entry's MAC and its own: an HMAC-SHA256 over its content
(time, actor, action, object, data, client address, request id) under the audit key, which
the database does not hold. Changing or deleting a row breaks the chain at that point, and
recomputing the chain needs the key. Each entry names its key by a short id, so that after
a rotation the old keys (``AMBASSADOR_AUDIT_OLD_KEYS``) still verify the old entries. Rows
written before the key existed keep their plain SHA-256 ("sha256" scheme) and still verify;
the first keyed entry links to their head, and no unkeyed entry may follow a keyed one.

Deleting the newest entries leaves a shorter chain that is still sound, and someone with
the key can rewrite one. So the head (id and MAC) is written elsewhere: a file of signed
anchors, one JSON line each (``write_anchor``), and optionally a daily mail to the admins.
``verify_chain`` checks the chain, then the newest valid anchor: the anchored entry must
still be there with the anchored MAC.

Appends are serialised so the chain never forks (the unique ``prev_hash`` column is the
database's backstop); triggers refuse UPDATE and DELETE on the table.

This module keeps the chain (keys, MACs, ``record``); the anchors are ``audit_anchors``,
the check of the whole chain ``audit_verify``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ambassador import requestcontext
from ambassador.db import serialise_writers, utcnow, write_transaction
from ambassador.tables import AuditEntry

if TYPE_CHECKING:
    from ambassador.settings import Settings


GENESIS = "0" * 64


SCHEME_LEGACY = "sha256"


SCHEME_KEYED = "hmac-sha256"


# Longest client address and request id kept (an IPv6 address is at most 45 characters).
MAX_CONTEXT = 64


log = logging.getLogger("ambassador.audit")


def key_id(key: str) -> str:
    """A short public name of a key (a hash of it: it tells nothing about the key)."""
    return hashlib.sha256(b"ambassador audit key id\0" + key.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    """The current audit key, which signs new entries and anchors, and the earlier ones."""

    current: str = field(repr=False)
    old: tuple[str, ...] = field(default=(), repr=False)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def get(self, kid: str) -> bytes | None:
        for key in (self.current, *self.old):
            if key_id(key) == kid:
                return key.encode()
        return None


@dataclass(frozen=True)
class AuditConfig:
    keyring: Keyring
    anchor_file: Path
    anchor_mail: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditConfig:
        if not settings.audit_key:
            from ambassador.settings import ConfigurationError

            raise ConfigurationError("AMBASSADOR_AUDIT_KEY must be set (the audit log's HMAC key)")
        return cls(
            keyring=Keyring(settings.audit_key, settings.audit_old_keys),
            anchor_file=settings.audit_anchor_path,
            anchor_mail=settings.audit_anchor_mail,
        )


_config: AuditConfig | None = None


def configure(config: AuditConfig | None) -> None:
    """Set the key and the anchor file (the app and tests); None: read the environment again."""
    global _config  # noqa: PLW0603 (one configuration per process, set at start-up)
    _config = config


def config() -> AuditConfig:
    """The configuration set by ``configure``, else the environment's (command-line runs)."""
    global _config  # noqa: PLW0603
    if _config is None:
        from ambassador.settings import read_settings

        _config = AuditConfig.from_settings(read_settings())
    return _config


def _canonical(
    *,
    prev_hash: str,
    created_at: dt.datetime,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    data: dict[str, Any],
    **keyed: str,
) -> bytes:
    """The bytes hashed: the legacy fields, plus scheme, key id, client and request id when keyed."""
    payload: dict[str, Any] = {
        "prev": prev_hash,
        "at": created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor_id,
        "action": action,
        "object": [object_type, object_id],
        "data": data,
        **keyed,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(**fields: Any) -> str:
    """The unkeyed SHA-256 of entries written before the audit key (scheme "sha256")."""
    return hashlib.sha256(_canonical(**fields)).hexdigest()


def entry_mac(key: bytes, *, kid: str, client: str, request_id: str, **fields: Any) -> str:
    """The HMAC-SHA256 of a keyed entry (scheme "hmac-sha256")."""
    message = _canonical(**fields, scheme=SCHEME_KEYED, key=kid, client=client, request=request_id)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def record(
    action: str,
    *,
    actor_id: int | None,
    object_type: str,
    object_id: str | int,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry; joins the caller's transaction so it commits with the change.

    The client address and request id come from the request being served (empty outside one).
    """
    payload = data or {}
    keyring = config().keyring
    context = requestcontext.current()
    client, request_id = context.client[:MAX_CONTEXT], context.request_id[:MAX_CONTEXT]
    async with write_transaction():
        await serialise_writers("audit_chain")
        last = await AuditEntry.select(AuditEntry.entry_hash).order_by(AuditEntry.id, ascending=False).first()
        prev_hash = last["entry_hash"] if last else GENESIS
        created_at = utcnow()
        kid = keyring.current_id
        mac = entry_mac(
            keyring.current.encode(),
            kid=kid,
            client=client,
            request_id=request_id,
            prev_hash=prev_hash,
            created_at=created_at,
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=payload,
        )
        entry = AuditEntry(
            created_at=created_at,
            actor=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=json.dumps(payload, sort_keys=True, ensure_ascii=False),
            prev_hash=prev_hash,
            entry_hash=mac,
            scheme=SCHEME_KEYED,
            key_id=kid,
            client=client,
            request_id=request_id,
        )
        await entry.save()
    return entry


async def recent(*, limit: int = 50, before_id: int | None = None) -> list[dict[str, Any]]:
    """Newest entries first, for the admin's audit view (keyset pagination)."""
    query = AuditEntry.select(
        AuditEntry.id,
        AuditEntry.created_at,
        AuditEntry.action,
        AuditEntry.object_type,
        AuditEntry.object_id,
        AuditEntry.data,
        AuditEntry.client,
        AuditEntry.request_id,
        AuditEntry.actor.display_name.as_alias("actor_name"),
    ).order_by(AuditEntry.id, ascending=False)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(await query.limit(limit))
