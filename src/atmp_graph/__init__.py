"""ATMP Graph: one GraphQL graph of the Lund/Skåne/LUMC ATMP collaboration, fed by plugins."""
