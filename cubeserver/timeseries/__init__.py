"""Time-series copies of gridded collections (issue 15 item 5, the Open-Meteo idea on standard Zarr).

settings.py: the `timeseries:` config key; build.py: writing the copy (dask + xarray to_zarr);
source_state.py: the source identity the copy records; layout.py: the copy at request time.
The selection engine (cubeserver/select/layouts.py) reads whichever layout touches fewer bytes.
"""
