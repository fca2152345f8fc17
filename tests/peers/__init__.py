"""Real test peers: a local OpenID Connect provider and a throwaway PostgreSQL server."""
