"""Parametric (dimensionless) vertical coordinates, CF 1.11 section 4.3.3 and Appendix D.

A model-level axis (`model_level_number`, `lev`, `s_rho`, ...) is served on its own values; this
module says which kind of vertical coordinate it is, so the metadata can name it (standard_name,
the formula and its terms) and NetCDF answers can keep the formula-terms variables, subset with
the selection, for clients that compute the physical heights or pressures (cf-xarray's
`decode_vertical_coords`, iris).
"""

from __future__ import annotations

from dataclasses import dataclass

import xarray as xr

# standard_name -> (formula as written in CF Appendix D, standard_name of what it computes)
FORMULAS = {
    "atmosphere_ln_pressure_coordinate": ("p(k) = p0 * exp(-lev(k))", "air_pressure"),
    "atmosphere_sigma_coordinate": ("p(n,k,j,i) = ptop + sigma(k)*(ps(n,j,i) - ptop)", "air_pressure"),
    "atmosphere_hybrid_sigma_pressure_coordinate": (
        "p(n,k,j,i) = a(k)*p0 + b(k)*ps(n,j,i)  or  p(n,k,j,i) = ap(k) + b(k)*ps(n,j,i)", "air_pressure"),
    "atmosphere_hybrid_height_coordinate": ("z(n,k,j,i) = a(k) + b(k)*orog(n,j,i)", "altitude"),
    "atmosphere_sleve_coordinate": (
        "z(n,k,j,i) = a(k)*ztop + b1(k)*zsurf1(n,j,i) + b2(k)*zsurf2(n,j,i)", "altitude"),
    "ocean_sigma_coordinate": ("z(n,k,j,i) = eta(n,j,i) + sigma(k)*(depth(j,i) + eta(n,j,i))", "altitude"),
    "ocean_s_coordinate": (
        "z(n,k,j,i) = eta(n,j,i)*(1 + s(k)) + depth_c*s(k) + (depth(j,i) - depth_c)*C(k), "
        "C(k) = (1 - b)*sinh(a*s(k))/sinh(a) + b*[tanh(a*(s(k) + 0.5))/(2*tanh(0.5*a)) - 0.5]", "altitude"),
    "ocean_s_coordinate_g1": (
        "z(n,k,j,i) = S(k,j,i) + eta(n,j,i)*(1 + S(k,j,i)/depth(j,i)), "
        "S(k,j,i) = depth_c*s(k) + (depth(j,i) - depth_c)*C(k)", "altitude"),
    "ocean_s_coordinate_g2": (
        "z(n,k,j,i) = eta(n,j,i) + (eta(n,j,i) + depth(j,i))*S(k,j,i), "
        "S(k,j,i) = (depth_c*s(k) + depth(j,i)*C(k))/(depth_c + depth(j,i))", "altitude"),
    "ocean_sigma_z_coordinate": (
        "for k <= nsigma: z(n,k,j,i) = eta(n,j,i) + sigma(k)*(min(depth_c,depth(j,i)) + eta(n,j,i)); "
        "for k > nsigma: z(n,k,j,i) = zlev(k)", "altitude"),
    "ocean_double_sigma_coordinate": (
        "for k <= k_c: z(k,j,i) = sigma(k)*f(j,i); for k > k_c: z(k,j,i) = f(j,i) + (sigma(k) - 1)*(depth(j,i) - f(j,i)), "
        "f(j,i) = 0.5*(z1 + z2) + 0.5*(z1 - z2)*tanh(2*a/(z1 - z2)*(depth(j,i) - href))", "altitude"),
}
CF_APPENDIX_D = "https://cfconventions.org/Data/cf-conventions/cf-conventions-1.11/cf-conventions.html#parametric-v-coord"


@dataclass(frozen=True)
class ParametricVertical:
    """A dimensionless vertical coordinate of the z axis: its variable, kind and formula terms."""

    coordinate: str  # the variable with the standard_name / formula_terms (may be the z axis itself)
    standard_name: str  # e.g. atmosphere_hybrid_height_coordinate
    formula_terms: dict[str, str]  # term -> variable name, e.g. {"a": "level_height", ...}

    @property
    def formula(self) -> str:
        return FORMULAS.get(self.standard_name, ("", ""))[0]

    @property
    def computes(self) -> str | None:
        """standard_name of the physical coordinate the formula gives (air_pressure, altitude)."""
        return FORMULAS.get(self.standard_name, ("", None))[1]

    def terms_text(self) -> str:
        return " ".join(f"{k}: {v}" for k, v in self.formula_terms.items())

    def describe(self, z: str) -> str:
        """One line for metadata: what the level values are and how to get the physical height."""
        out = f"{z}: model levels of a {self.standard_name} (CF Appendix D)"
        if self.formula:
            out += f", {self.formula}"
        if self.formula_terms:
            out += f"; formula_terms {self.terms_text()}"
        return out


def parse_formula_terms(text: str) -> dict[str, str]:
    """`"a: level_height b: sigma orog: surface_altitude"` -> {"a": "level_height", ...} (CF 4.3.3)."""
    out: dict[str, str] = {}
    key = None
    for token in str(text or "").split():
        if token.endswith(":"):
            key = token[:-1]
        elif key is not None:
            out[key] = token
            key = None
    return out


def find_parametric(ds: xr.Dataset, z: str | None) -> ParametricVertical | None:
    """The parametric vertical coordinate along dimension `z`, if the file declares one."""
    if z is None:
        return None
    candidates = [z] + [str(n) for n, v in ds.coords.items() if v.dims == (z,) and n != z]
    candidates += [str(n) for n, v in ds.data_vars.items() if v.dims == (z,)]
    for name in candidates:
        if name not in ds.variables:
            continue
        a = ds[name].attrs
        std = str(a.get("standard_name", ""))
        if std in FORMULAS or "formula_terms" in a:
            return ParametricVertical(name, std or "unknown parametric coordinate",
                                      parse_formula_terms(a.get("formula_terms", "")))
    return None


def is_parametric(var: xr.DataArray) -> bool:
    """A dimensionless vertical coordinate: Appendix D standard_name or a formula_terms attribute."""
    return str(var.attrs.get("standard_name", "")) in FORMULAS or "formula_terms" in var.attrs
