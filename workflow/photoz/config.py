"""Load and validate a pipeline configuration outside Snakemake (scripts run by hand).

Snakemake validates ``config.yaml`` with ``snakemake.utils.validate``; this module
applies the same JSON schema (with its defaults) so a stage script run directly
behaves identically. Errors name the offending key.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import yaml

from .errors import ConfigError  # noqa: F401  (raised here; re-exported)

WORKFLOW_ROOT = Path(__file__).resolve().parents[2]  # where the Snakefile and config.yaml are
SCHEMA_PATH = WORKFLOW_ROOT / "workflow" / "schemas" / "config.schema.yaml"
#: Config keys naming files shipped with the workflow: relative paths are relative to it.
SHIPPED_PATHS = (("catalog", "sql_template"), ("targets", "sql_template"))


def _with_defaults(validator_class):
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub:
                    instance.setdefault(name, _copy(sub["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _copy(value: Any) -> Any:
    return yaml.safe_load(yaml.safe_dump(value))


def validate_config(config: dict[str, Any], schema_path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """Fill defaults into ``config`` and validate it; raise :class:`ConfigError` naming the key."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        key = ".".join(str(p) for p in e.absolute_path) or "<top level>"
        raise ConfigError(f"config key '{key}': {e.message}")
    lin = config.get("lin2022", {})
    own_network = lin.get("network") not in (None, config.get("training", {}).get("network"))
    if own_network and lin.get("step1_init") == "baseline":
        raise ConfigError(
            "config key 'lin2022.network': step 1 cannot start from the baseline "
            "(lin2022.step1_init: baseline) with another network; set lin2022.step1_init: scratch"
        )
    for section, key in SHIPPED_PATHS:
        value = config.get(section, {}).get(key)
        if value and not Path(value).is_absolute():
            config[section][key] = str(WORKFLOW_ROOT / value)
    return config


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file and validate it."""
    with open(path) as fh:
        config = yaml.safe_load(fh) or {}
    return validate_config(config)


@functools.cache
def _defaults() -> dict[str, Any]:
    return validate_config({})


def config_defaults(section: str = "") -> dict[str, Any]:
    """The default values of a config section (dotted, e.g. ``"catalog.casjobs"``; all
    of them for ``""``): the schema's defaults, which are the values of ``config.yaml``
    (a test holds them equal), so a library object built here agrees with the README."""
    values: Any = _defaults()
    for name in filter(None, section.split(".")):
        values = values[name]
    return copy.deepcopy(values)


class FromConfig:
    """Mixin of the parameter dataclasses: built from one config section, whose missing
    keys take the config defaults; the dataclasses themselves carry none."""

    config_section: ClassVar[str]

    @classmethod
    def from_config(cls, section: dict[str, Any] | None = None, **overrides: Any):
        """The parameters of ``section`` (validated config values) with ``overrides``."""
        merged = {**config_defaults(cls.config_section), **(section or {}), **overrides}
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in merged.items() if k in names})
