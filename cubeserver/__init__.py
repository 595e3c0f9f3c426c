"""cubeserver: OGC API EDR, Coverages, Features and Processes over lazy xarray datacubes."""

__version__ = "0.1.0"
