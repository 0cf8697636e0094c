"""Config validation: defaults are filled in and bad values name their key."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from conftest import REPO, snakemake_command

from photoz.config import ConfigError, validate_config


def test_default_config_is_valid_and_complete(default_config):
    assert default_config["catalog"]["backend"] == "synthetic"
    assert default_config["catalog"]["skyserver"]["row_limit"] == 500000
    assert default_config["partitions"]["max_galaxies"] >= 1


def test_defaults_fill_missing_sections():
    cfg = validate_config({})
    assert cfg["catalog"]["r_mag_limit"] == 17.8
    assert cfg["catalog"]["casjobs"]["page_rows"] == 100000
    assert cfg["synthetic"]["frame_width"] == 2048


@pytest.mark.parametrize(
    ("bad", "key"),
    [
        ({"catalog": {"r_mag_limit": "bright"}}, "catalog.r_mag_limit"),
        ({"catalog": {"backend": "sdss"}}, "catalog.backend"),
        ({"synthetic": {"n_galaxies": 2.5}}, "synthetic.n_galaxies"),
        ({"partitions": {"max_galaxies": 0}}, "partitions.max_galaxies"),
    ],
)
def test_wrong_values_name_the_key(bad, key):
    with pytest.raises(ConfigError, match=rf"config key '{key}'"):
        validate_config(bad)


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match="'rmag_limit' was unexpected"):
        validate_config({"catalog": {"rmag_limit": 17.0}})


def _snakemake_dry_run(tmp_path, override: dict) -> subprocess.CompletedProcess:
    cfg = tmp_path / "override.yaml"
    cfg.write_text(yaml.safe_dump(override))
    return subprocess.run(
        [*snakemake_command(tmp_path), "-n", "--configfile", str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_snakemake_stops_on_a_wrong_type_naming_the_key(tmp_path):
    result = _snakemake_dry_run(tmp_path, {"partitions": {"max_galaxies": "many"}})
    assert result.returncode != 0
    assert "max_galaxies" in result.stderr + result.stdout
    assert "'many' is not of type 'integer'" in result.stderr + result.stdout


def test_snakemake_stops_on_an_unknown_key(tmp_path):
    result = _snakemake_dry_run(tmp_path, {"catalog": {"backend": "synthetic", "limit": 17}})
    assert result.returncode != 0
    assert "'limit' was unexpected" in result.stderr + result.stdout


def test_stage_script_validates_its_config(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump({"catalog": {"z_max": -1}}))
    result = subprocess.run(
        [sys.executable, str(REPO / "workflow/scripts/query_catalog.py"), "--configfile", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "config key 'catalog.z_max'" in result.stderr


def test_l22_methods_take_their_own_network_and_pixels():
    """presets/paper.yaml: the baseline is P19's (p19, raw pixels), the L22 steps L22's
    (l22, sqrt pixels); step 1 cannot start from a baseline of another network."""
    import yaml
    from conftest import REPO

    from photoz.models.member import method_train_params

    config = validate_config(yaml.safe_load((REPO / "presets/paper.yaml").read_text()))
    base, step1, step3 = (method_train_params(config, m) for m in ("baseline", "step1", "step3"))
    assert (base.network, base.pixel_transform, base.output) == ("p19", "none", "single")
    assert (step1.network, step1.pixel_transform, step1.output) == ("l22", "sqrt", "channels")
    assert (step3.network, step3.pixel_transform) == ("l22", "sqrt")
    default = validate_config({})
    assert method_train_params(default, "step1").network == default["training"]["network"]
    with pytest.raises(ConfigError, match="config key 'lin2022.network'.*step1_init: scratch"):
        validate_config({"lin2022": {"network": "l22", "step1_init": "baseline"}})
