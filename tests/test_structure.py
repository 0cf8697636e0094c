"""The code's structure: one source of defaults, no import circles, one way to run a
stage (one-line errors, exit 1, traceback only in the log), one table format, files
readable by the group."""

from __future__ import annotations

import ast
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO

PACKAGE = REPO / "workflow" / "photoz"
SCRIPTS = REPO / "workflow" / "scripts"


def _schema_defaults(schema: dict) -> dict:
    """The leaves' ``default`` values of the config schema, nested like the config."""
    out = {}
    for name, sub in schema.get("properties", {}).items():
        if "properties" in sub:
            out[name] = _schema_defaults(sub)
        elif "default" in sub:
            out[name] = sub["default"]
    return out


def test_schema_defaults_are_the_values_of_config_yaml():
    """Every key the schema gives a default has config.yaml's value and every key of
    config.yaml has a schema default: a stage run with a partial config gets the
    README's defaults, not paper values."""
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    assert _schema_defaults(schema) == config


def test_parameter_objects_take_their_defaults_from_the_config():
    from photoz.catalog.casjobs import CasJobsParams
    from photoz.config import config_defaults
    from photoz.lin2022.heads import HeadParams
    from photoz.models.member import TrainParams
    from photoz.partitions import PartitionParams

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    train = TrainParams.from_config({"steps": 5})
    assert (train.steps, train.network, train.threads) == (5, config["training"]["network"], 1)
    assert train.learning_rate == config["training"]["learning_rate"]
    assert HeadParams.from_config().learning_rate == config["lin2022"]["learning_rate"]
    assert PartitionParams.from_config().max_galaxies == config["partitions"]["max_galaxies"]
    assert CasJobsParams.from_config().table == config["catalog"]["casjobs"]["table"]
    with pytest.raises(TypeError):
        PartitionParams()  # no competing dataclass defaults
    assert config_defaults("training")["steps"] == config["training"]["steps"]


def _import_graph() -> dict[str, set[str]]:
    """Module -> the photoz modules it imports (at any depth of the file)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            found |= {c for c in candidates if c in modules and c != name}
        graph[name] = found
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles_between_modules_or_packages():
    graph = _import_graph()
    assert len(graph) > 60 and "photoz.models.member" in graph["photoz.models.train"]
    assert _cycles(graph) == []

    def package(module):
        return ".".join(module.split(".")[:2])

    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        packages.setdefault(package(module), set()).update(
            package(t) for t in targets if package(t) != package(module)
        )
    assert _cycles(packages) == []


def test_the_cycle_finder_sees_a_circle():
    """The import-graph test can fail: a two-module circle is found."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def _script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / f"{name}.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_rule_has_a_stage_and_a_script():
    import re

    from photoz.stages import STAGES

    rules, scripts = set(), set()
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        text = path.read_text()
        scripts |= set(re.findall(r'get_script\("(\w+)\.py"\)', text))
        for line in map(str.lstrip, text.splitlines()):  # rules under an `if` are indented
            if line.startswith(("rule ", "checkpoint ")) and not line.startswith("rule all"):
                rules.add(line.split()[1].rstrip(":"))
    # every stage is a rule of its name; the target sample's copies of stages 2-5 run
    # the same scripts under their own names
    assert set(STAGES) <= rules and scripts == set(STAGES)
    assert rules - set(STAGES) == {"plan_target_partitions"}
    assert {p.stem for p in SCRIPTS.glob("*.py")} - {"_bootstrap"} == set(STAGES)


def test_a_bad_argument_is_one_line_and_exit_1(tmp_path):
    result = _script("train", "--fold", "x", "--member", "0", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--fold" in lines[0] and "'x'" in lines[0], result.stderr


def test_bad_input_is_one_line_naming_the_file_and_the_traceback_goes_to_the_log(tmp_path):
    """A photo-z file that is not a table: one line naming it, exit 1, the traceback in
    --log only; a bad config key: one line naming the key."""
    bogus = tmp_path / "step3.parquet"
    bogus.write_text("not parquet")
    log = tmp_path / "logs" / "calibrate.log"
    args = ["--photoz", str(bogus), "--dataset-catalog", str(bogus), "--out", str(tmp_path / "o.parquet")]
    result = _script("calibrate", *args, "--log", str(log), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calibrate: ") and str(bogus) in lines[0], result.stderr
    assert "Traceback" not in result.stderr and "Traceback" in log.read_text()
    assert not (tmp_path / "o.parquet").exists()

    config = tmp_path / "config.yaml"
    config.write_text("training:\n  steps: -3\n")
    result = _script("knn_photometry", "--configfile", str(config), *args[2:], cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "training.steps" in lines[0], result.stderr


def test_a_stage_run_from_another_directory_finds_the_shipped_sql_template(tmp_path, monkeypatch):
    """The default config's relative sql_template resolves against the workflow."""
    from photoz.cli import build_parser, resolve_config

    monkeypatch.chdir(tmp_path)
    config = resolve_config(build_parser("query_catalog").parse_args([]))
    assert Path(config["catalog"]["sql_template"]).is_file()


def test_the_photoz_command_lists_and_runs_the_stages(tmp_path):
    from photoz.cli import main
    from photoz.stages import STAGES

    assert main(["no_such_stage"]) == 1
    result = subprocess.run(
        [sys.executable, "-m", "photoz.cli", "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0 and all(name in result.stdout for name in STAGES)


def test_tables_check_their_kind_and_keep_bin_edges_and_objid_type(tmp_path):
    from photoz.tables import TableFormatError, read_cubes, read_pdfs, read_table_metadata, write_pdfs

    pdfs = np.random.default_rng(0).dirichlet(np.ones(180), size=4).astype(np.float32)
    objid = np.array([1237650000000000001, 2, 3, 4], dtype=np.uint64)
    path = tmp_path / "member0.parquet"
    write_pdfs(objid, pdfs, path, {"z_min": 0.0, "z_max": 0.4, "point_estimate": "mean"})
    ids, back = read_pdfs(path)
    assert ids.dtype == np.int64 and ids.tolist() == objid.astype(np.int64).tolist()
    np.testing.assert_array_equal(back, pdfs)
    edges = read_table_metadata(path)["z_edges"]
    assert len(edges) == 181 and edges[0] == 0.0 and abs(edges[-1] - 0.4) < 1e-12
    assert abs(edges[1] - 0.4 / 180) < 1e-15
    with pytest.raises(TableFormatError, match=rf"{path}: expected a cubes table, found pdfs table"):
        read_cubes(path)
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"objid": [1]}).to_parquet(plain)
    with pytest.raises(TableFormatError, match=str(plain)):
        read_pdfs(plain)


def test_results_are_written_with_the_users_umask(tmp_path):
    """0644 under umask 022 (mkstemp's 0600 would hide results from the group)."""
    from photoz.io import atomic_path, write_json
    from photoz.tables import write_table

    write_table(pd.DataFrame({"objid": [1, 2]}), tmp_path / "t.parquet", {"x": 1}, kind="catalog")
    write_json({"a": 1}, tmp_path / "d.json")
    with atomic_path(tmp_path / "f.txt") as tmp:
        tmp.write_text("x")
    mask = os.umask(0)
    os.umask(mask)
    for name in ("t.parquet", "d.json", "f.txt"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o666 & ~mask, (name, oct(mode))
        if mask == 0o022:
            assert mode & stat.S_IRGRP and mode & stat.S_IROTH
