// A small GraphQL client for ATMP Graph: queries over HTTP (fetch, so CORS applies), and
// subscriptions over graphql-transport-ws (the browser's WebSocket, which CORS does not govern;
// the API checks the page's origin itself). No dependencies, no build step.

/** The `data` of `query` run at `api` (the API's base URL), or an Error saying why not. */
export async function query(api, document, variables = {}, { key } = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(`${api}/graphql`, {
      method: "POST",
      headers,
      body: JSON.stringify({ query: document, variables }),
    });
  } catch (failure) {
    // The browser tells a page nothing more: no server there, or its answer may not be read
    // here (this page's origin is not in the API's ATMP_CORS_ORIGINS).
    throw new Error(
      `${api} did not answer this page (${failure.message}): is the API running, and is ` +
        `${location.origin} in its ATMP_CORS_ORIGINS?`,
    );
  }
  const body = await response.json();
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

/**
 * Subscribe to `document` over graphql-transport-ws at `api`/graphql: `onNext(data)` for each
 * event, `onState(text)` as the connection opens, listens and drops. A dropped connection is
 * opened again after `retrySeconds`; `variables()` is asked each time it subscribes (e.g. for
 * the last sequence seen, as `after`, so nothing is missed). Returns a function that ends it.
 */
export function subscribe(api, document, { variables = () => ({}), onNext, onState, onError,
  key, retrySeconds = 2 }) {
  const url = `${api.replace(/^http/, "ws")}/graphql`;
  let socket;
  let ended = false;

  function open() {
    onState?.("connecting");
    socket = new WebSocket(url, "graphql-transport-ws");
    socket.onopen = () => {
      const payload = key ? { Authorization: `Bearer ${key}` } : {};
      socket.send(JSON.stringify({ type: "connection_init", payload }));
    };
    socket.onmessage = (message) => {
      const { type, id, payload } = JSON.parse(message.data);
      if (type === "connection_ack") {
        socket.send(JSON.stringify({
          id: "1", type: "subscribe", payload: { query: document, variables: variables() },
        }));
        onState?.("listening");
      } else if (type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (type === "next" && id === "1") {
        if (payload.errors?.length) onError?.(new Error(payload.errors[0].message));
        else onNext(payload.data);
      } else if (type === "error" && id === "1") {
        onError?.(new Error(payload.map((e) => e.message).join("; ")));
      }
    };
    socket.onclose = (event) => {
      if (ended) return;
      onState?.(`disconnected (${event.code}); retrying in ${retrySeconds} s`);
      setTimeout(open, retrySeconds * 1000);
    };
  }

  open();
  return () => {
    ended = true;
    socket.close(1000);
  };
}
