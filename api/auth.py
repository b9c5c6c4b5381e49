"""Who may do what: admins prove themselves with the ATMP_ADMIN_TOKEN bearer token.

Reading the graph needs no sign-in; only the admin mutations (merge, split, judge
suggestions, edit aliases) do.  Without a configured token nobody is an admin.
"""

import secrets

from pydantic import SecretStr


def is_admin(authorization: str | None, token: SecretStr | None) -> bool:
    """Whether an `Authorization` header carries the admin token."""
    if token is None or not token.get_secret_value() or authorization is None:
        return False
    scheme, _, given = authorization.partition(" ")
    expected = token.get_secret_value()
    return scheme.lower() == "bearer" and secrets.compare_digest(
        given.strip().encode(), expected.encode()
    )
