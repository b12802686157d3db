"""Invalid program files: every problem names the file, the path inside it, the line and
what was expected; the CLI reports them without a traceback."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from premia.cli import cli
from premia.errors import ConfigError
from premia.program import ProgramError, load_program

GOOD_HEAD = """\
name: Test
sources:
  - name: crm
    type: memory
metrics:
  - name: won
    agg: count
    where: {stage: Won}
"""


def write(tmp_path: Path, body: str, name: str = "program.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.fixture
def load(tmp_path, registry):
    def run(body: str):
        path = write(tmp_path, body)
        return path, load_program(path, registry)

    return run


@pytest.fixture
def problems(tmp_path, registry):
    """Load ``body``; return the ProgramError's file and problem lines."""

    def run(body: str) -> tuple[Path, ProgramError]:
        path = write(tmp_path, body)
        with pytest.raises(ProgramError) as info:
            load_program(path, registry)
        return path.resolve(), info.value

    return run


def test_program_error_is_a_config_error() -> None:
    assert issubclass(ProgramError, ConfigError)


def test_bad_tier_value_names_file_path_line_and_expectation(problems) -> None:
    path, err = problems(
        GOOD_HEAD
        + """\
rules:
  - name: r0
    type: threshold
    metric: won
    target: 1
    reward: {points: 1}
  - name: r1
    type: every
    metric: won
    reward: {points: 1}
  - name: r2
    type: tiered
    metric: won
    mode: whole
    tiers:
      - at: lots
        reward: {points: 1}
"""
    )
    # GOOD_HEAD is lines 1-8, `rules:` line 9, r0 lines 10-14, r1 15-18, r2 19-23; the value
    # `lots` of rules[2].tiers[0].at is on line 24.
    assert err.problems == [
        ("rules[2].tiers[0].at", 24, "Input should be a valid decimal (got 'lots')")
    ]
    message = str(err)
    assert str(path) in message
    assert "rules[2].tiers[0].at (line 24)" in message
    assert "valid decimal" in message


def test_every_problem_is_listed_at_once(problems) -> None:
    _, err = problems(
        """\
        name: Test
        timezone: Mars/Olympus
        period: fortnight
        metrics:
          - name: won
            agg: count
        """
    )
    # Both problems, each at its own line: timezone line 2, period line 3.
    locations = [(loc, line) for loc, line, _ in err.problems]
    assert locations == [("timezone", 2), ("period", 3)]
    assert "unknown IANA timezone 'Mars/Olympus'" in err.problems[0][2]
    assert "'month' or 'quarter'" in err.problems[1][2]
    assert "2 problem(s)" in str(err)


def test_unknown_top_level_and_nested_keys(problems) -> None:
    _, err = problems(
        """\
        name: Test
        nmae: typo
        metrics:
          - name: won
            agg: count
            wehre: {stage: Won}
        """
    )
    assert sorted((loc, line, msg) for loc, line, msg in err.problems) == [
        ("metrics[0].wehre", 6, "unknown key (check the spelling)"),
        ("nmae", 2, "unknown key (check the spelling)"),
    ]


def test_unknown_rule_parameter(problems) -> None:
    _, err = problems(
        GOOD_HEAD
        + """\
rules:
  - name: r0
    type: threshold
    metric: won
    targett: 3
    reward: {points: 1}
"""
    )
    # the typo is on line 13; the missing `target` is reported at the rule (line 10)
    assert sorted(err.problems) == [
        ("rules[0].target", 10, "required key is missing"),
        ("rules[0].targett", 13, "unknown key (check the spelling)"),
    ]


def test_unknown_rule_type_lists_known_ones(problems) -> None:
    _, err = problems(
        GOOD_HEAD
        + """\
rules:
  - name: r0
    type: thresold
    metric: won
    target: 3
    reward: {points: 1}
"""
    )
    ((loc, line, msg),) = err.problems
    assert (loc, line) == ("rules[0].type", 11)
    assert "unknown rule type 'thresold'" in msg
    assert "known rules: every, rank, threshold, tiered" in msg


def test_unknown_source_and_provider_types_list_known_ones(problems) -> None:
    _, err = problems(
        """\
        name: Test
        sources:
          - name: crm
            type: salesforc
        rewards:
          providers:
            - name: shop
              type: tango
        """
    )
    assert [(loc, line) for loc, line, _ in err.problems] == [
        ("sources[0].type", 4),
        ("rewards.providers[0].type", 8),
    ]
    assert "unknown source type 'salesforc'; known sources: memory" in err.problems[0][2]
    assert "unknown provider type 'tango'; known providers: rewards_catalog" in err.problems[1][2]


def test_source_settings_are_validated_by_the_plugin_model(problems) -> None:
    _, err = problems(
        """\
        name: Test
        sources:
          - name: crm
            type: memory
            settings:
              batch_size: many
        """
    )
    ((loc, line, msg),) = err.problems
    assert (loc, line) == ("sources[0].settings.batch_size", 6)
    assert "valid integer" in msg


def test_metric_referencing_a_missing_metric(problems) -> None:
    _, err = problems(
        GOOD_HEAD
        + """\
  - name: rate
    ratio: {numerator: won, denominator: nope}
rules:
  - name: r0
    type: threshold
    metric: missing
    gate: {metric: gone, at: 3}
    target: 3
    reward: {points: 1}
"""
    )
    assert sorted(err.problems) == [
        ("metrics[1].ratio.denominator", 10, "no metric named 'nope'"),
        ("rules[0].gate.metric", 15, "no metric named 'gone'"),
        ("rules[0].metric", 14, "no metric named 'missing'; metrics: ['rate', 'won']"),
    ]


def test_duplicate_names(problems) -> None:
    _, err = problems(
        GOOD_HEAD
        + """\
  - name: won
    agg: count
rules:
  - {name: r, type: every, metric: won, reward: {points: 1}}
  - {name: r, type: every, metric: won, reward: {points: 2}}
"""
    )
    assert sorted(err.problems) == [
        ("metrics[1].name", 9, "duplicate name 'won'"),
        ("rules[1].name", 13, "duplicate name 'r'"),
    ]


def test_segment_and_roster_references(problems) -> None:
    _, err = problems(
        GOOD_HEAD
        + """\
segments:
  - name: east
    where: {region: East}
rules:
  - {name: r, type: every, metric: won, segment: west, reward: {points: 1}}
"""
    )
    assert err.problems == [("rules[0].segment", 13, "no segment named 'west'")]


def test_bad_timezone(problems) -> None:
    _, err = problems("name: Test\ntimezone: America/Mexico_Cty\n")
    ((loc, line, msg),) = err.problems
    assert (loc, line) == ("timezone", 2)
    assert "unknown IANA timezone 'America/Mexico_Cty'" in msg
    assert "e.g. America/Mexico_City" in msg


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("name: x\ntimezone: UTC\n  bad: indent\n", "line 3, column 6"),
        ("name: x\nrules:\n  - name: a\n    x: 1\n    y: @foo\n", "line 5, column 8"),
    ],
)
def test_yaml_syntax_error_names_the_line(tmp_path, registry, body, where) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_program(path, registry)
    message = str(info.value)
    assert str(path.resolve()) in message
    assert where in message
    assert "invalid YAML" in message


def test_top_level_must_be_a_mapping(problems) -> None:
    _, err = problems("- just\n- a list\n")
    assert err.problems == [("(top level)", 1, "expected a mapping of program settings")]


def test_yaml_cannot_construct_objects(tmp_path, registry) -> None:
    path = write(tmp_path, "name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_program(path, registry)


def test_floats_in_yaml_are_exact_decimals(load) -> None:
    _, program = load(
        GOOD_HEAD
        + """\
  - name: rate
    ratio: {numerator: won, denominator: won, min_denominator: 0.1}
rules:
  - name: r
    type: threshold
    metric: rate
    target: 0.3
    reward: {rate: {points: 0.7, per: 1_000.5}}
rewards:
  point_value: 0.01
"""
    )
    params = program.rule("r").impl.params
    # 0.1 + 0.2 == 0.3 holds only if both sides are exact decimals
    assert type(params.target) is Decimal
    assert params.target == Decimal("0.3") == Decimal("0.1") + Decimal("0.2")
    assert params.reward.rate.points == Decimal("0.7")
    assert params.reward.rate.per == Decimal("1000.5")
    assert program.metric("rate").ratio.min_denominator == Decimal("0.1")
    assert program.config.rewards.point_value == Decimal("0.01")
    assert str(program.config.rewards.point_value) == "0.01"


def test_not_a_number_is_refused(tmp_path, registry) -> None:
    path = write(
        tmp_path,
        GOOD_HEAD
        + "rules:\n  - {name: r, type: threshold, metric: won, target: .nan, reward: {points: 1}}\n",
    )
    with pytest.raises(ConfigError, match="line 10"):
        load_program(path, registry)


# -- through the command line ----------------------------------------------------------------


def invoke(registry, *args: str):
    return CliRunner().invoke(cli, list(args), obj={"registry": registry})


def test_cli_check_reports_a_bad_program_without_traceback(tmp_path, registry) -> None:
    path = write(tmp_path, "name: Test\ntimezone: Nowhere/Land\n", name="bad.yaml")
    result = invoke(registry, "check", "-p", str(path))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Nowhere/Land" in result.output
    assert "timezone (line 2)" in result.output
    assert "bad.yaml" in result.output
    assert not (tmp_path / "premia.db").exists()  # check never creates a store


def test_cli_check_reports_a_yaml_syntax_error(tmp_path, registry) -> None:
    path = write(tmp_path, "name: x\ntimezone: UTC\n  bad: indent\n", name="bad.yaml")
    result = invoke(registry, "check", "-p", str(path))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "line 3" in result.output


def test_cli_check_missing_file(tmp_path, registry) -> None:
    result = invoke(registry, "check", "-p", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "not found" in result.output


def test_a_missing_plugin_setting_names_its_place_and_environment_variable(tmp_path) -> None:
    # `streams` starts like the pydantic type tag `str`: it must still be in the location.
    from premia.plugins import Registry
    from premia.program import ProgramError, load_program

    path = tmp_path / "program.yaml"
    path.write_text("name: x\nsources:\n  - name: crm\n    type: csv\n    settings: {}\n")
    with pytest.raises(ProgramError) as caught:
        load_program(path, Registry())
    assert caught.value.problems == [
        (
            "sources[0].settings.streams",
            5,
            "required key is missing (set it here or, for a secret, in the environment as "
            "PREMIA_SOURCES__CRM__STREAMS)",
        )
    ]


def test_misspelt_roster_attributes_are_refused(problems) -> None:
    # A ranking `within: regoin` would rank everyone together and a segment on `rol` would
    # match nobody: both silently change who is paid, so both are errors.
    _, err = problems(
        GOOD_HEAD
        + """\
roster:
  participants:
    - {name: Ana, email: ana@example.com, region: East, attributes: {team: A}}
segments:
  - {name: reps, where: {rol: rep}}
  - {name: team_a, where: {team: A}}
rules:
  - name: top
    type: rank
    metric: won
    within: regoin
    reward: {points: 1}
"""
    )
    known = "channel, email, key, manager, name, region, role, team"
    assert err.problems == [
        ("segments[0].where.rol", 13, f"no roster attribute 'rol'; attributes: {known}"),
        ("rules[0].within", 19, f"no roster attribute 'regoin'; attributes: {known}"),
    ]


def test_a_bad_setting_from_the_environment_is_named_and_never_echoed(
    tmp_path, monkeypatch
) -> None:
    from premia.plugins import Registry
    from premia.program import ProgramError, load_program
    from premia.settings import load_settings

    path = tmp_path / "program.yaml"
    path.write_text(
        "name: x\nsources:\n  - name: crm\n    type: csv\n"
        "    settings: {streams: {deals: {files: a.csv, id: id}}}\n"
    )
    monkeypatch.setenv("PREMIA_SOURCES__CRM__STREAMS__DEALS__ENCODING", "s3cr3t-XYZZY")
    with pytest.raises(ProgramError) as caught:
        load_program(path, Registry(), load_settings())
    ((location, line, message),) = caught.value.problems
    assert location == "PREMIA_SOURCES__CRM__STREAMS__DEALS__ENCODING (from the environment)"
    assert line is None
    assert "s3cr3t" not in str(caught.value)
    assert message.startswith("unknown encoding")
