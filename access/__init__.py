"""Who is asking, and what they may see: API keys, roles and visibility tiers."""
