"""Which node a record is: lookups, claims, precedence, matching, merge and split, review."""
