"""The P19 query text, rendered from the template in ``resources/sql``."""

from __future__ import annotations

from pathlib import Path
from string import Template

from ..constants import EXTINCTION_COEFF
from .region import region_sql
from .selection import SelectionParams

DEFAULT_TEMPLATE = Path(__file__).resolve().parents[3] / "resources" / "sql" / "p19_mgs.sql"


def render_sql(
    params: SelectionParams,
    template: str | Path = DEFAULT_TEMPLATE,
    into_table: str | None = None,
    extra_where: str = "",
) -> str:
    """Fill the template: limits and region from ``params``, optional ``INTO
    mydb.<table>`` and an extra ``AND ...`` condition (used for chunking)."""
    text = Path(template).read_text()
    return Template(text).substitute(
        r_mag_limit=repr(float(params.r_mag_limit)),
        z_min=repr(float(params.z_min)),
        z_max=repr(float(params.z_max)),
        into_clause=f"INTO mydb.{into_table}" if into_table else "",
        r_extinction_coeff=repr(EXTINCTION_COEFF["r"]),
        extra_where=" ".join(c for c in (region_sql(params.region), extra_where) if c),
    )
