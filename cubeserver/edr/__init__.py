"""OGC API - edr."""
