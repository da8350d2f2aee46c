"""The pages the UI links to, and how their figures read: rendered from month records alone."""

from __future__ import annotations

from drift_assets.lib.history import ColumnVerdict, DriftRecord, QualityFinding, QualityRecord
from drift_assets.lib.numbers import figure, text
from drift_assets.lib.pages import month_page, summary_page


def _record(month: str, drift: bool, temp: float, windspeed: float) -> DriftRecord:
    return DriftRecord(
        month=month, window=[], reference="fixed:2011-01", fallback=[], thresholds="evidently",
        method_version="1", drift=drift, share=0.5 if drift else 0.0, share_threshold=0.5,
        columns=[ColumnVerdict("temp", "num", "ks", temp, 0.05, temp < 0.05),
                 ColumnVerdict("windspeed", "num", "wasserstein", windspeed, 0.1,
                               windspeed > 0.1)],
        reference_rows=31, current_rows=30)


def test_figures_read_as_people_need_them():
    assert figure(0.123456) == 0.1235 and figure(4.297e-18) == 4.297e-18
    assert figure(None) is None and figure(float("nan")) is None
    assert text(4.297e-18, p_value=True) == "4.30e-18"  # never a bare 0
    assert text(0.0, p_value=True) == "< 1e-300"  # a p-value that underflowed
    assert text(0.0) == "0" and text(float("nan")) == "-"


def test_the_month_page_leads_with_the_pipelines_verdict():
    record = _record("2011-07", True, 0.0, 0.3)
    quality = QualityRecord("2011-07", True, [QualityFinding(
        "value_ranges", "temp", "WARN", "temp: 40% outside the reference range [0.1, 0.4]")])
    page = month_page("bike_sharing", record, quality, "evidently/2011-07.html", "index.html",
                      "drift_share.png", sampled=False)
    assert page.index("The pipeline's verdict") < page.index("Evidently's view")
    assert "< 1e-300" in page and "fixed:2011-01" in page and "40% outside" in page
    assert "<iframe src='evidently/2011-07.html'" in page
    assert "temp (ks 0, threshold 0.05)" in page  # the causes, as the alert names them


def test_the_summary_marks_drifted_cells_and_the_months_that_alerted():
    records = {"2011-02": _record("2011-02", False, 0.4, 0.05),
               "2011-03": _record("2011-03", True, 0.01, 0.3)}
    page = summary_page("bike_sharing", records, alerted=["2011-03"],
                        month_href=lambda m: f"{m}.html", charts={"Drift": "drift_share.png"})
    rows = {line.split("</a>")[0][-7:]: line for line in page.split("<tr>")[2:]}
    assert "alert" in rows["2011-03"] and "alert" not in rows["2011-02"]
    assert rows["2011-03"].count("class='drifted'") == 2
    assert "class='drifted'" not in rows["2011-02"]
    assert page.index("2011-03.html") < page.index("2011-02.html")  # newest first
    assert "<img src='drift_share.png'" in page
