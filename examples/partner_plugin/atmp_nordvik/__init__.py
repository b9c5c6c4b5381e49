"""ATMP Graph feed plugin for Nordvik University Hospital (a fictional fourth partner)."""
