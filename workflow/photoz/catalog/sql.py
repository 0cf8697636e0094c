"""The P19 query text, rendered from the template in ``resources/sql``."""

from __future__ import annotations

from pathlib import Path
from string import Template

from .selection import SelectionParams

DEFAULT_TEMPLATE = Path(__file__).resolve().parents[3] / "resources" / "sql" / "p19_mgs.sql"


def render_sql(
    params: SelectionParams,
    template: str | Path = DEFAULT_TEMPLATE,
    into_table: str | None = None,
    extra_where: str = "",
) -> str:
    """Fill the template: limits from ``params``, optional ``INTO mydb.<table>`` and an
    extra ``AND ...`` condition (used for chunking)."""
    text = Path(template).read_text()
    return Template(text).substitute(
        r_mag_limit=repr(float(params.r_mag_limit)),
        z_min=repr(float(params.z_min)),
        z_max=repr(float(params.z_max)),
        into_clause=f"INTO mydb.{into_table}" if into_table else "",
        extra_where=extra_where,
    )
