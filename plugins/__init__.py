"""Feed plugins: the hook contract, the plugin manager, record types and the ingest pipeline."""
