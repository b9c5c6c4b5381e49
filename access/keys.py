"""API keys: made, checked, listed and revoked.

A key reads `atmp_<prefix>_<secret>`: the prefix tells keys apart in listings, the secret is
256 random bits.  Only HMAC-SHA256(server secret, key) is stored, and a key is found by that
hash, so checking one is a single indexed lookup.
"""

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from atmp_graph.access.viewer import Viewer
from atmp_graph.enums import Role
from atmp_graph.model import ApiKey, ServerSecret

KEY_FORMAT = re.compile(r"^atmp_(?P<prefix>[a-z0-9]{8})_[A-Za-z0-9_-]{43}$")
HMAC_SECRET = "hmac"


class KeyRefused(Exception):
    """A key that does not let its bearer in; the message says why, in one sentence."""


def keyed_hash(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def secret_statement() -> Select[str]:
    return select(ServerSecret.value).where(ServerSecret.name == HMAC_SECRET)


def server_secret(session: Session, configured: str | None = None) -> str:
    """ATMP_SECRET_KEY if set, else the secret the database was made with."""
    if configured:
        return configured
    stored = session.scalar(secret_statement())
    if stored is None:
        raise RuntimeError("the database has no server secret: run `atmp-graph migrate`")
    return stored


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    token: str  # shown once, never stored


def create_key(
    session: Session,
    *,
    secret: str,
    institution_id: int,
    role: Role,
    expires_at: dt.datetime | None = None,
    label: str | None = None,
) -> NewKey:
    prefix = secrets.token_hex(4)
    token = f"atmp_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        prefix=prefix,
        key_hash=keyed_hash(secret, token),
        institution_id=institution_id,
        role=role,
        expires_at=expires_at,
        label=label,
    )
    session.add(key)
    session.flush()
    return NewKey(key, token)


def key_statement(secret: str, token: str) -> Select[ApiKey]:
    """The stored key `token` is, if any (after `check_format`)."""
    return select(ApiKey).where(ApiKey.key_hash == keyed_hash(secret, token))


def bearer_token(authorization: str) -> str:
    """The key in an `Authorization` header, or why the header is no key."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise KeyRefused("the Authorization header must read `Bearer <key>`")
    token = token.strip()
    if not KEY_FORMAT.match(token):
        raise KeyRefused("the key is malformed: keys read atmp_<8 characters>_<43 characters>")
    return token


def viewer_of(key: ApiKey | None, now: dt.datetime | None = None) -> Viewer:
    """The viewer a stored key makes, or why it makes none."""
    if key is None:
        raise KeyRefused("the key is not known")
    now = now or dt.datetime.now(dt.UTC)
    if key.revoked_at is not None:
        raise KeyRefused(f"the key atmp_{key.prefix}_… was revoked")
    if key.expires_at is not None and _aware(key.expires_at) <= now:
        raise KeyRefused(f"the key atmp_{key.prefix}_… expired on {key.expires_at:%Y-%m-%d}")
    return Viewer(role=key.role, institution_id=key.institution_id, key_id=key.id)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands timezone-aware columns back naive; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def revoke(session: Session, prefix: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix.removeprefix("atmp_")))
    if key is None:
        raise KeyRefused(f"there is no key {prefix!r}")
    key.revoked_at = key.revoked_at or dt.datetime.now(dt.UTC)
    return key


def all_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))
