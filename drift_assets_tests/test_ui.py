"""The Dagster UI, as a person sees it, in headless Chromium: the lineage graph of every declared
dataset, the monthly partitions of the bike-sharing ``current_data`` and the metadata of its
latest ``drift_report``.

A backfill of the bike-sharing dataset fills a private instance, ``dagster-webserver`` serves it
on loopback and Playwright drives Debian's ``chromium`` (``.ci/run`` installs it; no browser is
downloaded). Screenshots go to ``test-artifacts/ui/`` at the project root.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from dagster import DagsterInstance
from playwright.sync_api import expect, sync_playwright

from drift_assets.definitions import build_defs
from drift_assets_tests.graph import BIKE, TICKETS, key

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling out, and a closed network
# refuses it; --headless and --no-sandbox because CI runs as root without a display.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1600, "height": 1400}
FIRST, LAST = "2011-01", "2011-03"
MONTHS = [f"2011-0{m}-01" for m in range(1, 4)]
# The assets the README names, in each dataset's group; the graph may hold more (the test
# compares with the definitions).
README_ASSETS = {"reference_table", "current_data", "data_quality_report", "drift_report",
                 "trained_model", "model_performance"}
FEATURES = ("weathersit", "temp", "atemp", "hum", "windspeed")

# Asset groups, asset nodes and lineage edges of the graph, read from its SVG: a group or a node
# is a foreignObject (its box in graph units; a group's has class "group"), named by the first
# line of its text (a node by the last part of its asset key); an edge is a path with an arrow
# head from one box's side to another's.
READ_GRAPH = """() => {
  const box = node => ({name: node.firstElementChild.innerText.trim().split('\\n')[0].trim(),
                        x: +node.getAttribute('x'), y: +node.getAttribute('y'),
                        w: +node.getAttribute('width'), h: +node.getAttribute('height')});
  const named = node => node.firstElementChild && node.firstElementChild.innerText.trim();
  return {
    groups: [...document.querySelectorAll('svg foreignObject.group')].filter(named).map(box),
    nodes: [...document.querySelectorAll('svg foreignObject:not(.group)')].filter(named).map(box),
    edges: [...document.querySelectorAll('svg path[marker-end]')].map(p => p.getAttribute('d')),
  };
}"""


@pytest.fixture(scope="module")
def ui_env(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("ui")
    return {**os.environ, "DRIFT_DATA_DIR": str(tmp / "data"), "DAGSTER_HOME": str(tmp / "home"),
            "DRIFT_REPORTS_URL": f"http://127.0.0.1:{_free_port()}"}


@pytest.fixture(scope="module")
def reports(ui_env):
    """`drift-assets reports` serving the reports folder, as `make dev` runs it beside the UI."""
    server = subprocess.Popen([sys.executable, "-m", "drift_assets.cli", "reports"], cwd=ROOT,
                              env=ui_env, stderr=subprocess.PIPE, text=True)
    base = ui_env["DRIFT_REPORTS_URL"]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/", timeout=5):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def webserver(ui_env, tmp_path_factory):
    """Backfill three months with the CLI, then serve that instance; always stop the server."""
    done = subprocess.run(
        [sys.executable, "-m", "drift_assets.cli", "backfill", "--from", FIRST, "--to", LAST,
         "--dataset", BIKE.name],
        cwd=ROOT, env=ui_env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    log_path = tmp_path_factory.mktemp("webserver") / "webserver.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml",
             "-h", "127.0.0.1", "-p", str(_free_port())],
            cwd=ROOT, env=ui_env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            base = _wait_until_serving(server, log_path)
            # On a loopback origin the UI opens a "Join the Dagster community" dialog over every
            # page until the instance records that it was seen.
            assert _graphql(base, "mutation { setNuxSeen }") == {"setNuxSeen": True}
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="module")
def page(webserver):
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT, base_url=webserver)
            page.set_default_timeout(30_000)
            expect.set_options(timeout=30_000)
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="module")
def definitions(ui_env):
    """The asset graph the server loads, from the project's own definitions: its assets (keys
    as ``bike_sharing/drift_report``), its edges, and each asset's group."""
    defs = build_defs(ui_env)
    graph = defs.resolve_asset_graph()
    assets = {key.to_user_string() for key in graph.get_all_asset_keys()}
    edges = {(parent.to_user_string(), key.to_user_string())
             for key in graph.get_all_asset_keys() for parent in graph.get(key).parent_keys}
    groups = {key.to_user_string(): graph.get(key).group_name
              for key in graph.get_all_asset_keys()}
    defs.resources["warehouse"].dispose()
    return assets, edges, groups


def test_lineage_graph_shows_every_asset_and_its_edges(page, definitions):
    assets, edges, groups = definitions
    datasets = [BIKE.name, TICKETS.name]
    assert {f"{d}/{a}" for d in datasets for a in README_ASSETS} <= assets
    assert set(groups.values()) == set(datasets)  # one group per dataset
    # The groups stack one above the other and the graph is zoomed to fit its width: a viewport
    # one page tall per group shows every asset.
    page.set_viewport_size({**VIEWPORT, "height": VIEWPORT["height"] * len(datasets)})
    try:
        page.goto("/asset-groups")
        # Groups open collapsed: open them all from the graph's settings menu, then reload so
        # that the graph is laid out and zoomed to fit with every asset shown.
        page.get_by_role("button", name="settings", exact=True).click()
        page.get_by_role("menuitem", name="Expand all groups").click()
        expect(page).to_have_url(re.compile(r"expanded="))
        page.reload()
        nodes = page.locator("svg foreignObject:not(.group)")
        # a node shows the last part of its key: each name once per dataset that has it
        for name, count in sorted(Counter(a.split("/")[-1] for a in assets).items()):
            shown = nodes.get_by_text(name, exact=True)
            expect(shown).to_have_count(count)
            for index in range(count):
                expect(shown.nth(index)).to_be_in_viewport()
        expect(page.locator("svg path[marker-end]")).to_have_count(len(edges))
        expect(page.get_by_text("Loading...")).to_have_count(0)
        _screenshot(page, "lineage")
        graph = page.evaluate(READ_GRAPH)
    finally:
        page.set_viewport_size(VIEWPORT)

    assert sorted(group["name"] for group in graph["groups"]) == sorted(datasets)
    # each node is drawn inside the box of its asset's group, which tells the datasets apart
    by_place = {(groups[a], a.split("/")[-1]): a for a in assets}
    placed = [{**node, "name": by_place[(_group_of(graph["groups"], node), node["name"])]}
              for node in graph["nodes"]]
    assert sorted(node["name"] for node in placed) == sorted(assets)
    drawn = set()
    for path in graph["edges"]:
        points = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]
        drawn.add((_node_at(placed, points[0], points[1]),
                   _node_at(placed, points[-2], points[-1])))
    assert drawn == edges


def test_current_data_partitions_are_monthly_with_the_backfilled_months(page):
    total = len(BIKE.partitions.get_partition_keys())
    page.goto(f"/assets/{key('current_data').to_user_string()}?view=partitions")
    expect(page.get_by_text(f"Materialized ({len(MONTHS)})", exact=True)).to_be_visible()
    expect(page.get_by_text(f"Missing ({total - len(MONTHS)})", exact=True)).to_be_visible()
    expect(page.get_by_text(f"{total} Partitions Selected", exact=True)).to_be_visible()
    page.get_by_placeholder("Filter by name").fill("2011-0")
    for month in range(1, 10):  # one partition a month, the first day of each
        expect(page.get_by_title(f"2011-0{month}-01", exact=True)).to_be_visible()
    page.get_by_title(MONTHS[0], exact=True).click()
    expect(_row(page, "first_day")).to_contain_text("2011-01-01")
    expect(_row(page, "last_day")).to_contain_text("2011-01-31")
    expect(_row(page, "dagster/row_count")).to_contain_text("31")
    expect(page.get_by_text("Materialized", exact=True)).to_be_visible()  # the partition's badge
    _screenshot(page, "current_data_partitions")


def test_drift_report_shows_the_latest_drift_share_and_per_column_table(page, ui_env):
    with DagsterInstance.from_config(ui_env["DAGSTER_HOME"]) as instance:
        latest = instance.fetch_materializations(key("drift_report"), limit=1).records[0]
    stored = latest.asset_materialization
    assert stored.partition == MONTHS[-1]
    page.goto(f"/assets/{key('drift_report').to_user_string()}")
    expect(_row(page, "columns").locator("table")).to_be_visible()
    expect(page.get_by_text(MONTHS[-1], exact=True).first).to_be_visible()  # latest partition
    _screenshot(page, "drift_report")

    shown = float(_value(_row(page, "drift_share")))
    assert math.isclose(shown, stored.metadata["drift_share"].value, abs_tol=1e-9)
    table = _row(page, "columns").locator("table")
    header = [h.strip() for h in table.locator("th").all_inner_texts()]
    assert {"column", "method", "score", "threshold", "drifted"} <= set(header)
    per_column = {}
    for row in table.locator("tr").all():
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        if cells:
            per_column[cells[0]] = dict(zip(header, cells, strict=False))
    records = {r.data["column"]: r.data for r in stored.metadata["columns"].value.records}
    assert set(per_column) == set(records) and set(FEATURES) <= set(per_column)
    for column, record in records.items():
        assert per_column[column]["method"] == record["method"]
        assert per_column[column]["drifted"] == str(record["drifted"]).lower()
    drifted = sorted(c for c, r in per_column.items() if r["drifted"] == "true")
    assert sorted(filter(None, _value(_row(page, "drifted_columns")).split(", "))) == drifted


def test_a_month_report_opens_from_its_materialization_in_one_click(page, reports):
    """The `report` entry of a drift_report materialization is a link; one click opens the
    month's page with the pipeline's verdict first and Evidently's report below it, marked as
    Evidently's view, its script shared by the folder."""
    page.goto(f"/assets/{key('drift_report').to_user_string()}?view=events")
    address = f"{reports}/{BIKE.name}/2011-03.html"
    link = _row(page, "report").get_by_role("link", name=address)  # the address itself
    expect(link).to_have_attribute("href", address)
    with page.context.expect_page() as opened:
        link.click()
    month = opened.value
    try:
        month.set_viewport_size(VIEWPORT)
        expect(month.get_by_role("heading", name=re.compile(f"^{BIKE.name} · 2011-03: "))
               ).to_be_visible()
        expect(month.get_by_role("heading", name="The pipeline's verdict (what the sensor acts "
                                 "on)")).to_be_visible()
        expect(month.get_by_text("Compared with")).to_be_visible()
        for feature in FEATURES:
            expect(month.locator("table").first.get_by_text(feature, exact=True)).to_be_visible()
        # Evidently's report renders inside the page, from the shared script
        evidently = month.frame_locator("iframe")
        expect(evidently.get_by_text("Dataset Drift").first).to_be_visible()
        _screenshot(month, "month_report")
        # the page's link to every month: the grid of score against threshold
        month.get_by_role("link", name=f"All months of {BIKE.name}").click()
        expect(month.get_by_role("heading", name=f"{BIKE.name}: drift and quality month by "
                                 "month")).to_be_visible()
        for first_day in MONTHS:
            expect(month.get_by_role("link", name=first_day[:7], exact=True)).to_be_visible()
        images = month.locator("img")
        expect(images.first).to_be_visible()
        for index in range(images.count()):  # every chart loaded, none broken
            assert images.nth(index).evaluate("img => img.naturalWidth") > 300
        _screenshot(month, "all_months")
    finally:
        month.close()


def test_drift_over_time_and_the_drift_check_are_in_the_ui(page, ui_env):
    """The drift share of every month is plotted (Plots, by materialization: one point per
    month of the backfill) and drawn inline in the latest materialization; the drift check is
    partitioned as the asset is: its history shows each month's evaluation on its partition,
    a drifted month as a warning."""
    page.goto(f"/assets/{key('drift_report').to_user_string()}")
    page.get_by_role("button", name="Plots").click()
    page.get_by_role("button", name="Events").first.click()
    plot = page.locator("div").filter(has=page.get_by_text("drift_share", exact=True)).filter(
        has=page.locator("canvas")).last
    expect(plot.locator("canvas")).to_be_visible()
    _screenshot(page, "drift_report_plots")
    page.get_by_role("button", name="Table").click()
    _row(page, "drift_over_time").get_by_text("Show Markdown").click()
    chart = page.get_by_role("dialog").get_by_role("img", name="drift share per month")
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.naturalWidth") > 300
    _screenshot(page, "drift_over_time")
    page.keyboard.press("Escape")
    page.goto(f"/assets/{key('drift_report').to_user_string()}?view=checks")
    page.get_by_role("tab", name="Execution history").click()
    # one evaluation per month, each on its partition; July's drift is a warning
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(len(MONTHS))
    for first_day in MONTHS:
        expect(rows.filter(has_text=first_day)).to_have_count(1)
    warned = rows.filter(has=page.get_by_text("Failed", exact=True))
    expect(warned).not_to_have_count(0)
    expect(warned.first).to_contain_text("drift against fixed:2011-01")
    _screenshot(page, "drift_check_history")
    # the check's own partition bar: a month that drifted red, one that did not green
    with DagsterInstance.from_config(ui_env["DAGSTER_HOME"]) as instance:
        drifted = sum(r.asset_materialization.metadata["drift_detected"].value
                      for r in instance.fetch_materializations(key("drift_report"),
                                                               limit=100).records)
    page.locator("button[role=tab]", has_text="Partitions").click()  # the check's own tab
    expect(page.get_by_text(f"Failed ({drifted})", exact=True)).to_be_visible()
    expect(page.get_by_text(f"Passed ({len(MONTHS) - drifted})", exact=True)).to_be_visible()
    _screenshot(page, "drift_check_partitions")


def _row(page, key: str):
    """The row of the metadata table whose key is ``key``."""
    key_cell = page.locator(":scope > td:first-child", has_text=re.compile(f"^{re.escape(key)}$"))
    return page.locator("tr").filter(has=key_cell)


def _value(row) -> str:
    return row.locator(":scope > td").last.inner_text().strip()


def _group_of(groups: list[dict], node: dict) -> str:
    """The one group whose box holds ``node``'s box."""
    holding = [g["name"] for g in groups
               if g["x"] <= node["x"] and node["x"] + node["w"] <= g["x"] + g["w"]
               and g["y"] <= node["y"] and node["y"] + node["h"] <= g["y"] + g["h"]]
    assert len(holding) == 1, f"{node['name']} is drawn in {holding or 'no group'}"
    return holding[0]


def _node_at(nodes: list[dict], x: float, y: float) -> str:
    """The asset whose box an edge's end touches (an arrow stops a few units short of it)."""
    def distance(node):
        dx = max(node["x"] - x, 0, x - node["x"] - node["w"])
        dy = max(node["y"] - y, 0, y - node["y"] - node["h"])
        return math.hypot(dx, dy)

    nearest = min(nodes, key=distance)
    assert distance(nearest) < 20, f"an edge ends at ({x}, {y}), on no asset"
    return nearest["name"]


def _screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    data = path.read_bytes()
    width, height = struct.unpack(">II", data[16:24])  # the PNG header's IHDR
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000
    assert (width, height) >= (VIEWPORT["width"], VIEWPORT["height"])
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(server: subprocess.Popen, log_path: Path, timeout: float = 120) -> str:
    port = server.args[server.args.index("-p") + 1]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, log_path.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{base}/server_info", timeout=5) as answer:
                if json.load(answer).get("dagster_webserver_version"):
                    return base
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"dagster-webserver did not answer in {timeout}s: "
                         f"{log_path.read_text()[-3000:]}")


def _graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(f"{base}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["data"]
