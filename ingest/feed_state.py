"""Each feed stream's cursor after its last complete run."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmp_graph.model.provenance import FeedState


def feed_state(session: Session, feed: str) -> dict[str, str]:
    """Each stream's cursor after the feed's last complete run."""
    rows = session.execute(select(FeedState.stream, FeedState.cursor).where(FeedState.feed == feed))
    return {row.stream: row.cursor for row in rows}


def advance_feed_state(session: Session, feed: str, cursors: dict[str, str]) -> None:
    """Move each stream's cursor forward (never back) to what this run read."""
    for stream, cursor in cursors.items():
        state = session.get(FeedState, (feed, stream))
        if state is None:
            session.add(FeedState(feed=feed, stream=stream, cursor=cursor))
        elif cursor > state.cursor:
            state.cursor = cursor
