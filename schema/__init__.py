"""The GraphQL schema: Strawberry types over the shared model, loaded through DataLoaders."""
