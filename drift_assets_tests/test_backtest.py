"""The backtest's accounting (trials with a known answer, false alarms, the goal) and its
command."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from drift_assets.cli import main
from drift_assets.lib import quality
from drift_assets.lib.backtest import MODES, Backtest, Outcome, Replay, Report, Table
from drift_assets.lib.faults import KINDS, Fault
from drift_assets.lib.generator import generate_month
from drift_assets.lib.months import months_between
from drift_assets.lib.schema import BIKE, DEFAULT_DRIFT_FEATURES
from drift_assets.lib.source import conform

PEER, FIXED = MODES[0], MODES[2]  # Evidently defaults on the first month; evidently, fixed


@pytest.fixture(scope="module")
def table() -> Table:
    """Fourteen generated months of the bike table: a year, then two months judged."""
    months = {m.strftime("%Y-%m"): conform(generate_month(m, seed=2), "generated", BIKE)
              for m in months_between("2011-01", "2012-02")}
    return Table("bike", months, BIKE.kinds, list(DEFAULT_DRIFT_FEATURES), ("2011-01",),
                 categorical=("weathersit",),
                 quality={"possible": dict(quality.POSSIBLE_RANGES), "held": ["hum"]})


@pytest.fixture(scope="module")
def backtest(table) -> Backtest:
    return Backtest(table, modes=(PEER, FIXED))  # Evidently's tests only: quick replays


def test_half_the_humidity_lost_is_found_by_the_quality_gate_in_its_first_month(backtest):
    fault = Fault("values lost", ("hum",), 0.5, ("2012-01", "2012-02"), seed=1)
    outcome = backtest.trial(fault=fault)
    assert outcome.found[FIXED.name] == 1  # blocking: hum 50% missing
    # the peer has no quality gate, and half a month of humidity is still humidity
    assert outcome.found[PEER.name] is None


def test_a_fault_that_changes_nothing_is_found_by_no_mode(backtest):
    fault = Fault("unit change", ("temp",), 1.0, ("2012-01", "2012-02"), seed=1)
    assert backtest.trial(fault=fault).found == {PEER.name: None, FIXED.name: None}


def test_a_unit_change_is_found_in_its_first_month_unless_already_flagged(backtest):
    fault = Fault("unit change", ("windspeed",), 10.0, ("2012-01", "2012-02"), seed=1)
    found = backtest.trial(fault=fault).found
    for mode in (PEER, FIXED):
        clean = backtest.replay(mode).flags[("2012-01", "windspeed")]
        # a column the clean month already flagged tells nobody about the fault
        assert found[mode.name] == (2 if clean else 1)


def test_false_alarms_count_flagged_clean_cells_but_not_known_changes(table):
    backtest = Backtest(table, modes=(PEER,))
    run = Replay(PEER, flags={(m, c): False for m in table.order[1:] for c in table.features})
    run.flags[("2012-01", "temp")] = run.flags[("2012-02", "temp")] = True
    run.flags[("2012-02", "hum")] = True
    run.flags[("2011-05", "hum")] = True  # the first year is not scored
    backtest._replays[PEER.name] = run
    alarms = backtest.false_alarms(PEER)
    assert alarms["count"] == 3 and alarms["months"] == 2 and alarms["clean_cells"] == 10
    assert alarms["per_column"] == {"weathersit": 0, "temp": 2, "atemp": 0, "hum": 1,
                                    "windspeed": 0}
    assert alarms["per_year"] == pytest.approx(18.0)  # 3 in two months
    table.known = {"temp": ("2012-01",)}
    try:
        assert backtest.false_alarms(PEER)["count"] == 2
    finally:
        table.known = {}


def test_trials_are_drawn_from_their_seed_alone(backtest, table):
    one, again, other = backtest.draw(11), backtest.draw(11), backtest.draw(12)
    assert one == again and one != other
    for seed in range(40):
        fault = backtest.draw(seed)
        kind = KINDS[fault.kind]
        assert fault.size in kind.sizes and fault.months[0] in table.scored
        # two months judged: a longer fault is cut at the history's end
        assert fault.months == tuple(table.scored[-min(kind.months, 2):])


def test_the_report_counts_found_months_and_the_goal():
    kind = KINDS["stuck value"]
    faults = [Fault("stuck value", ("hum",), kind.goal, ("2012-01",), s) for s in range(4)]
    found = [{"a": 1, "b (peer)": 1}, {"a": 2, "b (peer)": None}, {"a": None, "b (peer)": 1},
             {"a": 1, "b (peer)": 1}]
    alarms = {"a": {"per_year_five_columns": 1.0}, "b (peer)": {"per_year_five_columns": 9.0}}
    outcomes = [Outcome(s, f, x) for s, (f, x) in enumerate(zip(faults, found, strict=True))]
    report = Report("t", ["a", "b (peer)"], list(range(4)), outcomes, alarms, {})
    row = next(r for r in report.detection() if r["mode"] == "a")
    assert (row["trials"], row["found"], row["share"]) == (4, 3, 0.75)
    assert row["first_month"] == 0.5 and row["months_to_detection"] == pytest.approx(4 / 3)
    goal = report.goal("a")
    assert goal["kinds_short"] == ["stuck value"] and goal["alarms_met"]
    assert goal["behind_peers"] == [] and not goal["met"]


def test_a_table_of_less_than_thirteen_months_is_refused(table):
    short = dict(list(table.months.items())[:12])
    with pytest.raises(ValueError, match="12 months; a backtest needs at least 13"):
        Table("short", short, BIKE.kinds, ["temp"], ("2011-01",))


@pytest.mark.parametrize("argv, message", [
    (["--trials", "0"], "--trials 0: expected at least 1"),
    (["--seed", "-1"], "--seed -1: expected 0 or more"),
    (["--dataset", "nope"], "--dataset 'nope' is not declared"),
])
def test_bad_arguments_are_one_line_and_exit_2(capsys, argv, message):
    assert main(["backtest", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_a_source_that_cannot_be_read_is_one_line_and_exit_2(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DRIFT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DRIFT_SOURCE", str(tmp_path / "none.csv"))
    assert main(["backtest", "--dataset", "bike_sharing", "--trials", "2"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "dataset 'bike_sharing'" in captured.err and "none.csv" in captured.err


def test_help_documents_the_arguments_and_their_defaults(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["backtest", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for words in ("--dataset NAME", "--trials N", "(default 1000)", "--seed S", "(default 0)",
                  "--json", "exit status"):
        assert words in text


@pytest.mark.slow
def test_a_backtest_of_the_generated_table_reproduces_its_figures_for_a_seed(capsys, env,
                                                                             monkeypatch):
    """The command's figures for seeds 100000..100011 are reproduced by a fresh backtest running
    the same trials in the other order: reusing profiles, thresholds and tests across trials
    changes no figure."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["backtest", "--dataset", "bike_sharing", "--trials", "12", "--seed",
                 "100000", "--json"]) == 0
    (figures,) = json.loads(capsys.readouterr().out)
    assert figures["trials"] == 12 and figures["seeds"] == [100000, 100011]
    from drift_assets.assets.backtest import backtest_table
    from drift_assets.cli.datasets import chosen
    from drift_assets.resources import build_resources

    _, (bike,) = chosen("bike_sharing")
    resources = build_resources(env)
    fresh = Backtest(backtest_table(bike, resources["source"], resources["settings"]))
    # in the other order: what one trial left cached would show in another's figures
    for trial in reversed(figures["trials_list"]):
        alone = fresh.trial(trial["seed"])
        assert alone.found == trial["found"]
        assert [alone.fault.kind, list(alone.fault.columns), alone.fault.size] == [
            trial["kind"], trial["columns"], trial["size"]]
    assert fresh.false_alarms(MODES[-1])["count"] == \
        figures["false_alarms"][MODES[-1].name]["count"]
    assert pd.Series(figures["false_alarms"]).index.tolist() == [m.name for m in MODES]
