// graphql-http's GraphQL-over-HTTP audit against the server at argv[2]; prints its results as
// JSON (id, name, status, reason) for tests/api/test_graphql_over_http.py to judge.
import { auditServer } from "graphql-http";

const url = process.argv[2];
const results = await auditServer({ url });
const summary = results.map(({ id, name, status, reason }) => ({ id, name, status, reason }));
process.stdout.write(JSON.stringify(summary));
