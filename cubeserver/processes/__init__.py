"""OGC API - processes."""
