"""Each feed stream's cursor after its last complete run, kept as the stream's canonical text
and compared as a value of its cursor type (a date with a date, a timestamp with a timestamp)."""

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmp_graph.model.provenance import FeedState
from atmp_graph.plugins.cursors import CursorError, CursorValue, canonical, is_after
from atmp_graph.plugins.feeds import Stream


def _stream(streams: Mapping[str, Stream], entity: str) -> Stream:
    return streams.get(entity) or Stream(entity, primary_key="source_id")


def _value(stream: Stream, cursor: str) -> CursorValue | None:
    try:
        return stream.cursor_value(cursor)
    except CursorError:
        return None


def feed_state(session: Session, feed: str, streams: Mapping[str, Stream]) -> dict[str, str]:
    """Each stream's cursor, in canonical text, as `FeedAdapter.read` is given it.

    A stored cursor that is not of its stream's type (the stream's type changed, or an older
    version kept it) is left out: that stream is read whole, and gets a typed state again.
    """
    rows = session.execute(select(FeedState.stream, FeedState.cursor).where(FeedState.feed == feed))
    state = {}
    for entity, cursor in rows:
        value = _value(_stream(streams, entity), cursor)
        if value is not None:
            state[entity] = canonical(value)
    return state


def advance_feed_state(
    session: Session,
    feed: str,
    cursors: Mapping[str, CursorValue],
    streams: Mapping[str, Stream],
) -> None:
    """Move each stream's cursor forward (never back) to the newest this run stored."""
    for entity, cursor in cursors.items():
        state = session.get(FeedState, (feed, entity))
        if state is None:
            session.add(FeedState(feed=feed, stream=entity, cursor=canonical(cursor)))
            continue
        stored = _value(_stream(streams, entity), state.cursor)
        if stored is None or is_after(cursor, stored):
            state.cursor = canonical(cursor)
