"""OGC API - features."""
