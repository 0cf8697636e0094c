"""Shared command-line plumbing of the stage scripts in ``workflow/scripts``.

Every script takes the configuration either from a YAML file (``--configfile``, what a
user running one stage by hand would pass) or as JSON sections (``--params-json``, what
the Snakemake rules pass, so a rule reruns only when its own sections change). Both
are validated against the same schema as the workflow.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from .config import ConfigError, load_config, validate_config


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--configfile``, ``--params-json`` and ``--log-level`` to ``parser``."""
    parser.add_argument("--configfile", help="pipeline config YAML (default: config.yaml)")
    parser.add_argument(
        "--params-json",
        help="config sections as JSON, overriding --configfile (used by the Snakemake rules)",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")


def resolve_config(args: argparse.Namespace) -> dict[str, Any]:
    """Merge ``--configfile`` and ``--params-json`` and validate; exit with a message on error."""
    try:
        if args.configfile or not args.params_json:
            config = load_config(args.configfile or "config.yaml")
        else:
            config = {}
        if args.params_json:
            config.update(json.loads(args.params_json))
        return validate_config(config)
    except (ConfigError, OSError, json.JSONDecodeError) as exc:
        sys.exit(f"configuration error: {exc}")


def setup_logging(level: str) -> None:
    """Log to stderr (Snakemake rules redirect it to logs/)."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
