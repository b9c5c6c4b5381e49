"""Which media type a GraphQL response is sent as, from the request's Accept header."""

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def response_media_type(accept: str | None) -> str:
    """graphql-response+json when the client ranks it first of the two we send; else JSON.

    An absent Accept, `*/*` or `application/*` gets application/json: the spec's audit
    (graphql-http) still expects the legacy type there, and every client can read it.
    """
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept or "").split(",")):
        media_type, *params = (piece.strip() for piece in part.split(";"))
        if media_type.lower() not in (GRAPHQL_RESPONSE, JSON):
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, media_type.lower()))
    return min(ranked)[2] if ranked else JSON
