"""Three questions about the collaboration, answered over the GraphQL API alone.

    python examples/collaboration_questions.py --api http://127.0.0.1:8000 [--key KEY]

1. Which ATMP products are in trials with sites in both Sweden and the Netherlands?
2. Which partnerships are in negotiation?
3. Which trials changed status in the last 30 days? (from the change history: the `changes`
   query, each UPDATED event with the fields' old and new values; the history keeps
   ATMP_CHANGES_RETENTION_DAYS days, 7 by default)

Without a key the answers are the public view; a key (`atmp-graph keys create`) shows what it
may see besides. Each list is read page by page, so none is cut off at a page size.
"""

import argparse
import datetime as dt
import sys
from collections.abc import Iterator
from typing import Any

import httpx2

SWEDEN_AND_NETHERLANDS = {
    "and": [{"sites": {"country": {"eq": "SE"}}}, {"sites": {"country": {"eq": "NL"}}}]
}

# Each top-level list is read page by page; what is nested in it is small (a trial's products,
# its Swedish and Dutch sites), and the page sizes keep each query within a production
# server's cost limit (ATMP_MAX_QUERY_COST, 10,000).
TRIALS = """
query Trials($filter: TrialFilter, $after: String) {
  trials(filter: $filter, orderBy: [{field: TITLE}], first: 20, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      acronym title nctId
      products(orderBy: [{field: NAME}], first: 20) { id name atmpClass }
      sitesConnection(filter: {country: {in: ["SE", "NL"]}}, first: 20) {
        nodes { city country }
      }
    }
  }
}
"""
PARTNERSHIPS = """
query Partnerships($after: String) {
  partnerships(filter: {status: {eq: NEGOTIATION}}, orderBy: [{field: CODE}], first: 20,
               after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      code kind startDate
      partner { name }
      institutions(first: 20) { name }
      products(first: 20) { name }
    }
  }
}
"""
TRIAL_CHANGES = """
query TrialChanges($since: DateTime!, $after: String) {
  changes(filter: {types: [CLINICAL_TRIAL], kinds: [UPDATED], since: $since}, first: 100,
          after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      sequence at feed
      changes { field old new }
      node { ... on ClinicalTrial { title acronym nctId } }
    }
  }
}
"""


class API:
    def __init__(self, base: str, key: str | None) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx2.Client(base_url=base.rstrip("/"), headers=headers, timeout=30)

    def run(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.client.post("/graphql", json={"query": query, "variables": variables})
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise SystemExit("; ".join(error["message"] for error in body["errors"]))
        return dict(body["data"])

    def every(self, query: str, field: str, **variables: Any) -> Iterator[dict[str, Any]]:
        """Every node of the connection `field`, page after page."""
        after = None
        while True:
            page = self.run(query, after=after, **variables)[field]
            yield from page["nodes"]
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]


def trial_name(trial: dict[str, Any]) -> str:
    name = trial.get("acronym") or trial["title"]
    return f"{name} ({trial['nctId']})" if trial.get("nctId") else name


def products_in_swedish_and_dutch_trials(api: API) -> list[str]:
    """Each product (by id, as two products may share a name) with the trials it is in."""
    products: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for trial in api.every(TRIALS, "trials", filter=SWEDEN_AND_NETHERLANDS):
        sites = trial["sitesConnection"]["nodes"]
        at = ", ".join(dict.fromkeys(f"{s['city'] or '?'} ({s['country']})" for s in sites))
        for product in trial["products"]:
            products.setdefault(product["id"], (product, []))[1].append(
                f"{trial_name(trial)} at {at}"
            )
    answers = []
    for product, trials in sorted(products.values(), key=lambda found: found[0]["name"]):
        atmp_class = product["atmpClass"] or "class not given by its feeds"
        answers.append(f"{product['name']} ({atmp_class}): in {'; '.join(trials)}")
    return answers


def partnerships_in_negotiation(api: API) -> list[str]:
    answers = []
    for partnership in api.every(PARTNERSHIPS, "partnerships"):
        parties = ", ".join(institution["name"] for institution in partnership["institutions"])
        line = (
            f"{partnership['code']} ({partnership['kind']}): {parties} with "
            f"{partnership['partner']['name']}"
        )
        if partnership["startDate"]:
            line += f", from {partnership['startDate']}"
        if partnership["products"]:
            line += "; products: " + ", ".join(p["name"] for p in partnership["products"])
        answers.append(line)
    return answers


def trials_whose_status_changed(api: API, *, days: int) -> list[str]:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    answers = []
    for event in api.every(TRIAL_CHANGES, "changes", since=since.isoformat()):
        for change in event["changes"]:
            if change["field"] != "status":
                continue
            # A trial since retired, or not yours to see, is named by nothing but the event.
            trial = trial_name(event["node"]) if event["node"] else "a trial no longer shown"
            at = dt.datetime.fromisoformat(event["at"]).strftime("%Y-%m-%d %H:%M UTC")
            answers.append(
                f"{trial}: {change['old'] or 'no status'} → {change['new'] or 'no status'}, "
                f"{at} (feed {event['feed'] or 'none: by hand'})"
            )
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default="http://127.0.0.1:8000", help="the API's base URL")
    parser.add_argument("--key", help="an API key (without: the public view)")
    parser.add_argument("--days", type=int, default=30, help="how far back question 3 looks")
    arguments = parser.parse_args()
    api = API(arguments.api, arguments.key)
    questions = [
        (
            "Which ATMP products are in trials with sites in both Sweden and the Netherlands?",
            products_in_swedish_and_dutch_trials(api),
        ),
        ("Which partnerships are in negotiation?", partnerships_in_negotiation(api)),
        (
            f"Which trials changed status in the last {arguments.days} days?",
            trials_whose_status_changed(api, days=arguments.days),
        ),
    ]
    for question, answers in questions:
        print(question)
        print("\n".join(f"  - {answer}" for answer in answers) if answers else "  (none)")
        print()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
