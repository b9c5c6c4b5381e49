"""The HTTP app, settings and command line of ATMP Graph."""
