"""Zarr v2 over HTTP."""
