// A graphql-ws subscriber to `graphChanges` that resumes where it was when its server goes away:
// node resuming_subscriber.mjs WS_URL API_KEY AFTER
// It prints one JSON line per thing that happens: {"connected": n} at each connection the
// server acknowledged (n = 1, 2, ...), {"closed": code, "reason": ...} when one ends, {"event":
// {...}} for each change, and {"error": ...} if it gives up; it ends after a RUN_FINISHED event.
// tests/api/test_subscriptions_across_servers.py restarts the server under it and judges it.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, key, after] = process.argv.slice(2);
const CHANGES = `subscription Changes($after: Int) {
  graphChanges(after: $after) {
    sequence at kind entityType nodeId feed runId institutionId
    changes { field old new }
    report { status read created updated unchanged quarantined }
  }
}`;

const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

// graphql-ws sends this same payload again each time it resubscribes after a reconnect, so
// keeping `after` at the last sequence seen makes every resubscription a resume: the server
// sends what came after it, and nothing twice.
const payload = { query: CHANGES, variables: { after: Number(after) } };
let connections = 0;

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${key}` },
  // A server stopping closes with 1012 (service restart), which graphql-ws counts as
  // retryable; while it starts again the connection is refused (an error, not a close event),
  // which the default `shouldRetry` would not retry: retry both, quickly.
  shouldRetry: () => true,
  retryAttempts: 300,
  retryWait: () => new Promise((resolve) => setTimeout(resolve, 200)),
  on: {
    connected: () => print({ connected: ++connections }),
    closed: (event) => print({ closed: event.code, reason: event.reason }),
  },
});

const stop = client.subscribe(payload, {
  next({ data, errors }) {
    if (errors) {
      print({ error: errors });
      process.exit(1);
    }
    const event = data.graphChanges;
    payload.variables.after = event.sequence;
    print({ event });
    if (event.kind === "RUN_FINISHED") {
      stop();
      client.dispose();
    }
  },
  error(error) {
    // GraphQL errors (a refused `after`), or the close event or error it stopped retrying at.
    const { code, reason, message } = error;
    print({ error: Array.isArray(error) ? error : { code, reason, message } });
    process.exit(1);
  },
  complete() {},
});
