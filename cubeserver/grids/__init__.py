"""Grid models beyond a regular X/Y grid: curvilinear grids (2-D latitude/longitude).

`axes.py` finds the axes and asks `grids.curvilinear.detect` whether the grid is
curvilinear; `select/`, `encode/` and the standards' packages ask the resulting
`CurvilinearGrid` (nearest cell on the sphere, cells inside a geometry), never the file.
"""
