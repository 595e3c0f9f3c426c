"""CSV for point-type answers: a header row, then one row per cell × time × level.

Written by pandas' C writer from the table columns; nodata is an empty field, so the
file loads back with `pandas.read_csv` as NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from starlette.responses import Response

MEDIA_TYPE = "text/csv"


def to_csv(columns: dict[str, np.ndarray], x_name: str = "x", y_name: str = "y") -> str:
    frame = pd.DataFrame({(x_name if k == "x" else y_name if k == "y" else k): v for k, v in columns.items()})
    return frame.to_csv(index=False, na_rep="", float_format=None, lineterminator="\n")


def csv_response(columns: dict[str, np.ndarray], filename: str, x_name: str = "x", y_name: str = "y") -> Response:
    return Response(to_csv(columns, x_name, y_name), media_type=f"{MEDIA_TYPE}; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})
