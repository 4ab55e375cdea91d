"""Anonymous sessions and aggregate counts: the store, the session keys, the cache, the stats."""
