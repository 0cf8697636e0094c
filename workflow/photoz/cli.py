"""The one way to run a stage: ``photoz <stage> [options]`` or
``workflow/scripts/<stage>.py [options]`` (what the Snakemake rules call).

Every stage takes the configuration either from a YAML file (``--configfile``, what a
user running one stage by hand passes; default: the workflow's ``config.yaml``) or as
JSON sections (``--params-json``, what the rules pass, so a rule reruns only when its
own sections change); both are validated against the workflow's schema.

Failures: bad input, a bad argument or a failed service print one line naming the
file, galaxy, frame or config key (``<stage>: <message>``) and exit 1. The traceback
goes to the log file only (``--log FILE``, which the rules pass), never to the
terminal. Logging goes to ``--log`` when given, else to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from .config import WORKFLOW_ROOT, load_config, validate_config
from .errors import ConfigError, PhotozError

log = logging.getLogger("photoz.cli")

#: The configuration shipped with the workflow (the defaults' one source).
DEFAULT_CONFIG = WORKFLOW_ROOT / "config.yaml"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 1."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        sys.stderr.write(f"{self.prog}: {message} (see --help)\n")
        sys.exit(1)


def build_parser(name: str) -> argparse.ArgumentParser:
    """The parser of stage ``name`` (its options, the config and logging options)."""
    stage = _command(name)
    parser = OneLineParser(
        prog=name, description=stage.description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for flags, kwargs in stage.options:
        parser.add_argument(*flags, **kwargs)
    if stage.config:
        parser.add_argument("--configfile", help=f"pipeline config YAML (default: {DEFAULT_CONFIG})")
        parser.add_argument(
            "--params-json",
            help="config sections as JSON, overriding --configfile (used by the Snakemake rules)",
        )
    parser.add_argument("--log", help="log file (appended; receives the traceback of a failure)")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser


def resolve_config(args: argparse.Namespace) -> dict[str, Any]:
    """Merge ``--configfile`` and ``--params-json`` and validate; :class:`ConfigError`
    naming the key or file when they are wrong."""
    if args.configfile or not args.params_json:
        path = args.configfile or DEFAULT_CONFIG
        try:
            config = load_config(path)
        except OSError as exc:
            raise ConfigError(f"config file {path}: {exc.strerror or exc}") from exc
    else:
        config = {}
    if args.params_json:
        try:
            config.update(json.loads(args.params_json))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--params-json is not JSON: {exc}") from exc
    return validate_config(config)


def setup_logging(level: str, log_file: str | None) -> None:
    """Log to ``log_file`` (appended) when given, else to stderr."""
    handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))


def run_stage(name: str, argv: list[str] | None = None) -> int:
    """Run stage ``name`` with command-line ``argv``; return the exit status."""
    from .stages import UsageError

    stage = _command(name)
    parser = build_parser(name)
    args = parser.parse_args(argv)
    if args.log:
        Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    setup_logging(args.log_level, args.log)
    try:
        config = resolve_config(args) if stage.config else {}
        stage.run(args, config)
    except UsageError as exc:
        parser.error(str(exc))
    except (PhotozError, OSError, ValueError, KeyError) as exc:
        return _fail(name, exc, args.log)
    except Exception as exc:  # noqa: BLE001 - a bug: still one line, the traceback in the log
        return _fail(name, exc, args.log, unexpected=True)
    return 0


def _fail(name: str, exc: BaseException, log_file: str | None, unexpected: bool = False) -> int:
    message = str(exc) if not isinstance(exc, KeyError) else f"missing key {exc}"
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
        message = f"{exc.filename}: {exc.strerror or message}"
    if unexpected:
        message = f"unexpected {type(exc).__name__}: {message}"
    # the traceback to the log file only (at DEBUG on the terminal: --log-level DEBUG)
    log.log(logging.ERROR if log_file else logging.DEBUG, "%s failed", name, exc_info=exc)
    where = f" (traceback in {log_file})" if log_file else ""
    sys.stderr.write(f"{name}: {message}{where}\n")
    return 1


def _command(name: str):
    from .stages import COMMANDS, STAGES

    return {**STAGES, **COMMANDS}[name]


def main(argv: list[str] | None = None) -> int:
    """``photoz <stage> [options]``: run one stage; ``photoz --help`` lists them."""
    from .stages import COMMANDS, STAGES

    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        lines = ["usage: photoz <stage> [options]   (photoz <stage> --help for its options)", "", "stages:"]
        lines += [f"  {n:<16} {s.description.splitlines()[0]}" for n, s in STAGES.items()]
        lines += ["", "exports:"]
        lines += [f"  {n:<16} {s.description.splitlines()[0]}" for n, s in COMMANDS.items()]
        print("\n".join(lines))
        return 0 if argv else 1
    if argv[0] not in {**STAGES, **COMMANDS}:
        names = ", ".join([*STAGES, *COMMANDS])
        sys.stderr.write(f"photoz: unknown command {argv[0]!r}; choose from {names}\n")
        return 1
    return run_stage(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main())
