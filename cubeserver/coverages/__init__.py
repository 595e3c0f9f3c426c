"""OGC API - coverages."""
