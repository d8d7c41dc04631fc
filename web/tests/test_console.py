"""The coordinator's console on the shared stack's demo facts: the figures on screen are the API's, a hidden
cell of the release is shown as hidden (never as zero) and explained, the annual report prints, a
reporter's report accepted by the coordinator moves the plan's progress; axe on every console screen."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from pypdf import PdfReader

from services.registry.seed import DEMO_YEARS
from web.tests.browser import serious_violations, sign_in, wait_until
from web.tests.conftest import browser_context
from web.tests.test_catalogues import console_texts
from web.tests.test_keyboard import FOCUSED, focus_on_heading, tab_to

YEAR = max(DEMO_YEARS)  # the released demo year
DESK = {"width": 1280, "height": 900}
HIDDEN_TEXT = "fewer than 5, hidden to protect the people counted"


@pytest.fixture(scope="module")
def api(web: Any, make_token: Any) -> Iterator[httpx.Client]:
    """The API as the coordinator sees it, to compare with what the console shows."""
    token = make_token("coordinator", org="demo-state-coordinator")
    with httpx.Client(base_url=web.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def desk(browser: Any, web: Any) -> Iterator[Any]:
    with browser_context(browser, web.url, 20_000, viewport=DESK, locale="en-GB", service_workers="block") as context:
        yield context


def _get(api: httpx.Client, path: str) -> Any:
    response = api.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def _axe(page: Any, name: str, seen: dict[str, list[str]]) -> None:
    seen[name] = serious_violations(page)


def retype(page: Any, selector: str, text: str) -> None:
    """With the keyboard alone: Tab to the field, select what it holds and type over it."""
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_the_dashboard_shows_the_apis_figures_with_tables_and_csv(desk: Any, api: Any, tmp_path: Path) -> None:
    page = desk.new_page()
    sign_in(page, "coordinator")
    page.get_by_role("link", name="Console").click()
    page.goto(f"/#/console/dashboard/{YEAR}")
    page.locator('[data-kpi="screenings"] .kpi-value').wait_for()

    screenings = _get(api, f"/api/v1/stats/screenings/series?from={YEAR - 1}&to={YEAR}&step=year")
    victims = _get(api, f"/api/v1/stats/victims/series?from={YEAR - 1}&to={YEAR}&step=year&by=status")
    referrals = _get(api, f"/api/v1/stats/referrals?year={YEAR}&by=status")
    now = victims["periods"][1]["cells"]
    expected = {
        "screenings": screenings["periods"][1]["cells"][0]["count"],
        "presumed": next(c["count"] for c in now if c["status"] == "presumed"),
        "identified": next(c["count"] for c in now if c["status"] == "identified"),
        "referrals": next(c["count"] for c in referrals["cells"] if c["status"] == "total"),
    }
    shown = {k: page.locator(f'[data-kpi="{k}"] .kpi-value').inner_text() for k in expected}
    assert shown == {k: f"{v:,}" for k, v in expected.items()}
    before = next(c["count"] for c in victims["periods"][0]["cells"] if c["status"] == "identified")
    assert f"({before})" in page.locator('[data-kpi="identified"] .kpi-change').inner_text()

    # A breakdown: its table holds the API's cells, in order, and its CSV exactly what the table shows.
    by_sex = _get(api, f"/api/v1/stats/victims?year={YEAR}&by=sex")
    figure = page.locator("#fig-sex-victims")
    rows = figure.locator("table.data tbody tr")
    assert [r.get_attribute("data-key") for r in rows.all()] == [c["sex"] for c in by_sex["cells"]]
    assert [r.locator("td").inner_text() for r in rows.all()] == [f"{c['count']:,}" for c in by_sex["cells"]]
    assert figure.locator("canvas").count() >= 1  # the chart is drawn (uPlot), hidden from screen readers
    with page.expect_download() as download:
        figure.get_by_role("link", name="Download CSV").click()
    target = tmp_path / "sex.csv"
    download.value.save_as(target)
    lines = [line for line in target.read_text().splitlines() if not line.startswith("#")]
    table = list(csv.reader(io.StringIO("\n".join(lines))))
    assert table[0] == ["sex", "sex_label", "Persons"]
    assert [(r[0], int(r[2])) for r in table[1:]] == [(c["sex"], c["count"]) for c in by_sex["cells"]]

    # Trends by quarter: the table's rows are the series' periods.
    quarters = page.locator("#fig-victims-quarter table.data tbody tr")
    assert quarters.count() == 12 and quarters.first.get_attribute("data-key") == f"{YEAR - 2}-Q1"

    seen: dict[str, list[str]] = {}
    _axe(page, "dashboard", seen)
    page.goto(f"/#/console/eurostat/{YEAR}")
    page.locator("#tbl-eurostat-by_sex_and_age_group tbody tr").first.wait_for()
    _axe(page, "eurostat", seen)
    assert seen == {"dashboard": [], "eurostat": []}


def _shown(figure: Any) -> dict[str, Any]:
    """What a figure's table shows per row: the number, or the marker of a hidden cell."""
    out = {}
    for row in figure.locator("table.data tbody tr").all():
        hidden = row.locator(".count.suppressed")
        key = row.get_attribute("data-key")
        out[key] = (
            hidden.first.get_attribute("data-marker")
            if hidden.count()
            else int(row.locator("td").first.inner_text().replace(",", ""))
        )
    return out


def test_the_dashboard_of_a_released_year_shows_the_releases_victims(desk: Any, api: Any) -> None:
    """The demo year is released: its victims figures are the release's exact tables, a hidden cell is its
    marker (never 0), and form and citizenship (refused by the explorer for a released year) are the release
    tables the refusal names."""
    release = _get(api, f"/api/v1/releases/{YEAR}")
    refused = api.get(f"/api/v1/stats/victims?year={YEAR}&by=form")
    assert refused.status_code == 409 and refused.json()["release"]["tables"][0] == "by_form_group"

    def table(name: str, dim: str) -> dict[str, Any]:
        return {c[dim]: c["count"] for c in release["tables"][name]["cells"]}

    page = desk.new_page()
    sign_in(page, "coordinator")
    page.goto(f"/#/console/dashboard/{YEAR}")
    hint = page.locator(f'p.hint[data-released="{release["version"]}"]')
    hint.wait_for()
    assert f"The year {YEAR} is released" in hint.inner_text()
    figures = {
        "#fig-form-victims": table("by_form_group", "form_group"),
        "#fig-citizenship-victims": table("by_citizenship", "citizenship"),
        "#fig-canton-victims": table("by_canton", "canton"),
        "#fig-sex-victims": table("by_sex", "sex"),
    }
    hidden = 0
    for selector, expected in figures.items():
        figure = page.locator(selector)
        assert _shown(figure) == expected, selector
        assert f"From the release of {YEAR}, version {release['version']}" in figure.inner_text()
        csv_href = unquote(figure.get_by_role("link", name="Download CSV").get_attribute("href"))
        assert "Exact counts of the release" in csv_href and "Perturbed" not in csv_href
        hidden += sum(isinstance(v, str) for v in expected.values())
    assert hidden > 0, "the demo release hides a cell the dashboard shows"
    quarters = _shown(page.locator("#fig-victims-quarter"))
    assert {k: v for k, v in quarters.items() if k.startswith(f"{YEAR}-")} == {
        f"{YEAR}-Q{q}": v for q, v in table("by_quarter", "quarter").items() if q != "total"
    }
    seen: dict[str, list[str]] = {}
    _axe(page, "dashboard (released)", seen)
    assert seen == {"dashboard (released)": []}


def test_the_annual_report_marks_hidden_cells_and_prints(desk: Any, api: Any) -> None:
    release = _get(api, f"/api/v1/releases/{YEAR}")
    hidden = [
        (name, cell)
        for name, table in release["tables"].items()
        if len(table["dims"]) == 1
        for cell in table["cells"]
        if cell["count"] == "<5"
    ]
    assert hidden, "the demo release has a cell hidden as <5"
    name, cell = hidden[0]
    dimension = release["tables"][name]["dims"][0]

    page = desk.new_page()
    sign_in(page, "coordinator")
    page.goto(f"/#/console/report/{YEAR}")
    row = page.locator(f'#tbl-{name} tbody tr[data-key="{cell[dimension]}"]')
    row.wait_for()
    marked = row.locator(".count.suppressed")
    assert marked.get_attribute("data-marker") == "<5"
    assert marked.locator("abbr").inner_text() == "<5"  # shown as hidden, not as a number (never 0)
    assert HIDDEN_TEXT in page.locator(f"#tbl-{name} .legend").inner_text()
    # Every hidden cell of the release is marked on screen, with its own marker.
    markers = sorted(
        str(c["count"]) for t in release["tables"].values() for c in t["cells"] if isinstance(c["count"], str)
    )
    assert sorted(page.locator("td .count.suppressed").evaluate_all("els => els.map(e => e.dataset.marker)")) == markers
    # And every table with a <5 cell, one-way or cross, explains it under its table.
    for name in {n for n, t in release["tables"].items() if t["dims"] and any(c["count"] == "<5" for c in t["cells"])}:
        assert HIDDEN_TEXT in page.locator(f"#tbl-{name} .legend").inner_text(), name

    # The canton map fills every municipality of a hidden canton with the hatching, and no other.
    boundaries = json.loads((Path(__file__).parents[1] / "app" / "console" / "bih-map.json").read_text())
    cantons = {c["canton"]: c["count"] for c in release["tables"]["by_canton"]["cells"]}
    hidden_cantons = [m for m in boundaries["municipalities"] if isinstance(cantons.get(str(m["canton"])), str)]
    hatched = page.locator('#tbl-by_canton path[fill="url(#hidden-canton)"]')
    assert hatched.count() == len(hidden_cantons)

    seen: dict[str, list[str]] = {}
    _axe(page, "report", seen)
    assert seen == {"report": []}

    page.emulate_media(media="print")
    assert not page.locator("nav.console-nav").is_visible()
    assert not page.get_by_role("link", name="Download CSV").first.is_visible()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(page.pdf(format="A4"))).pages)
    flat = " ".join(text.split())
    assert f"the year {YEAR}" in flat and "<5" in flat and HIDDEN_TEXT in flat


def test_the_console_speaks_bosnian_with_the_bosnian_ui(desk: Any, api: Any) -> None:
    bs = console_texts("bs")
    page = desk.new_page()
    sign_in(page, "coordinator", ui_language="bs")
    page.goto(f"/#/console/dashboard/{YEAR}")
    page.locator('[data-kpi="screenings"] .kpi-value').wait_for()
    assert page.locator("div.console").get_attribute("lang") == "bs"
    assert page.locator("main h1").inner_text() == bs["console_title"]
    nav = page.get_by_role("navigation", name=bs["console_nav"])
    for key in ("console_dashboard", "console_annual_report", "console_strategy_monitor"):
        assert nav.get_by_role("link", name=bs[key]).is_visible()
    assert page.locator("#dashboard-title").inner_text() == bs["console_dashboard_title"].replace("{year}", str(YEAR))
    assert page.locator('[data-kpi="presumed"] dt').inner_text() == bs["console_kpi_presumed"]
    figure = page.locator("#fig-sex-victims")
    assert figure.locator("h3").inner_text() == f"{bs['console_fig_sex']}, {YEAR}"
    by_sex = _get(api, f"/api/v1/stats/victims?year={YEAR}&by=sex")
    shown = figure.locator("tbody th").all_inner_texts()  # the registry's codes under the registry's bs labels
    assert bs["console_sex_F"] in shown and bs["console_common_total"] in shown and len(shown) == len(by_sex["cells"])
    assert figure.get_by_role("link", name=bs["console_download_csv"]).is_visible()
    version = _get(api, f"/api/v1/releases/{YEAR}")["version"]
    released = bs["console_dashboard_released_hint"].replace("{year}", str(YEAR)).replace("{version}", str(version))
    assert page.locator("p.hint[data-released]").inner_text() == released  # the released year, said in Bosnian
    seen: dict[str, list[str]] = {}
    _axe(page, "dashboard (bs)", seen)

    page.goto(f"/#/console/report/{YEAR}")
    page.locator("#report-title").wait_for()
    assert page.locator("#report-title").inner_text() == bs["console_report_title"].replace("{year}", str(YEAR))
    assert page.locator(".legend li", has_text=bs["console_marker_lt5"]).count() >= 1  # "<5" explained in Bosnian
    assert page.get_by_role("button", name=bs["console_print_pdf"]).is_visible()
    _axe(page, "report (bs)", seen)
    assert seen == {"dashboard (bs)": [], "report (bs)": []}


def _achieved(page: Any, code: str) -> str:
    return page.locator(f'tr[data-measure="{code}"] td.achieved').inner_text()


def test_a_reporter_reports_the_coordinator_accepts_and_progress_moves(
    browser: Any, web: Any, desk: Any, api: Any
) -> None:
    seen: dict[str, list[str]] = {}
    coordinator = desk.new_page()
    sign_in(coordinator, "coordinator")
    coordinator.goto("/#/console/plan")
    coordinator.locator('tr[data-measure="1.2"]').wait_for()
    before = _achieved(coordinator, "1.2")
    _axe(coordinator, "plan (coordinator)", seen)

    reporter_context = browser.new_context(base_url=web.url, viewport=DESK, service_workers="block")
    reporter_context.set_default_timeout(20_000)
    try:
        reporter = reporter_context.new_page()
        sign_in(reporter, "reporter")
        reporter.get_by_role("link", name="Console").click()
        reporter.locator('tr[data-measure="1.2"] a').click()
        indicator = reporter.locator('[data-indicator="1.2.1"]')
        form = indicator.locator("form")
        # Only the periods the server takes are offered: none before the plan, none awaiting review or accepted.
        form.locator('select[name="period"] option').first.wait_for(state="attached")
        offered = form.locator('select[name="period"] option').evaluate_all("(os) => os.map((o) => o.value)")
        detail = _get(api, f"/api/v1/indicators/{indicator.locator('h4').get_attribute('id').removeprefix('ind-')}")
        taken = {r["period"] for r in detail["reports"] if r["status"] in ("submitted", "accepted")}
        assert offered == detail["reportable_periods"] and offered and not taken & set(offered)
        form.locator('select[name="period"]').select_option("2025")
        form.locator('input[name="value"]').fill("40")
        form.locator('textarea[name="comment"]').fill("40 joint inspections in construction and agriculture")
        form.locator('input[name="evidence_url"]').fill("https://example.org/inspections-2025.pdf")
        _axe(reporter, "measure (reporter)", seen)
        form.get_by_role("button", name="Send the report").click()
        indicator.locator('li[data-report="2025"][data-status="submitted"]').wait_for()
        reporter.goto("/#/console/plan")
        reporter.locator('tr[data-measure="1.2"]').wait_for()
        assert _achieved(reporter, "1.2") == before  # not counted before the coordinator accepts it
        _axe(reporter, "plan (reporter)", seen)
    finally:
        reporter_context.close()

    # The coordinator's page stayed open on the plan: open the measure from there.
    coordinator.locator('tr[data-measure="1.2"] a').click()
    report = coordinator.locator('[data-indicator="1.2.1"] li[data-report="2025"][data-status="submitted"]')
    _axe(coordinator, "measure (coordinator)", seen)
    report.get_by_role("button", name="Accept").click()
    coordinator.locator('[data-indicator="1.2.1"] li[data-report="2025"][data-status="accepted"]').wait_for()
    coordinator.get_by_role("link", name="The plan's progress").click()
    coordinator.locator('tr[data-measure="1.2"]').wait_for()
    # Baseline 10, target 60 joint inspections: 40 accepted is (40 - 10) / (60 - 10) = 60 % achieved.
    assert before != "60 %" and _achieved(coordinator, "1.2") == "60 %"
    assert all(not problems for problems in seen.values()), seen


PLAN_CSV = (
    "level,code,parent,part,title,description,organisations,starts_on,ends_on,deadline,"
    "kind,source,unit,baseline,target,frequency\n"
    """plan,{code},,,Plan loaded in the console,,,2024-01-01,2027-12-31,,,,,,,
goal,1,,prosecution,Labour exploitation found,,,,,,,,,,,
measure,1.1,1,,Joint labour inspections,,demo-sipa,,,{deadline},,,,,,
indicator,1.1.1,1.1,,Joint inspections,,,,,,reported,,inspections,0,40,{frequency}
"""
)


def _choose_file(page: Any, path: Path) -> None:
    """The file input reached with Tab; the file is then picked in the system's own dialog, which is not the
    page's (headless Chromium opens none), so it is set on the focused input."""
    tab_to(page, 'input[name="plan"]')
    page.locator('input[name="plan"]').set_input_files(str(path))
    assert page.evaluate(FOCUSED, 'input[name="plan"]')


def test_the_coordinator_loads_a_plan_from_a_file_and_edits_it_with_the_keyboard(
    desk: Any, api: Any, tmp_path: Path
) -> None:
    seen: dict[str, list[str]] = {}
    code = f"UI-{uuid.uuid4().hex[:8]}"
    page = desk.new_page()
    sign_in(page, "coordinator")
    page.goto("/#/console/plan")
    page.locator('tr[data-measure="1.2"]').wait_for()
    tab_to(page, 'a[href="#/console/load"]')
    page.keyboard.press("Enter")
    focus_on_heading(page, "#load-title")  # the new screen starts at its heading

    # A bad file: a deadline that is no date (row 4) and an unknown frequency (row 5): both listed, none loaded.
    bad = tmp_path / "bad.csv"
    bad.write_text(PLAN_CSV.format(code=code, deadline="31.12.2026", frequency="weekly"))
    _choose_file(page, bad)
    tab_to(page, ".plan-load button[type=submit]")
    page.keyboard.press("Enter")
    errors = page.locator("#load-errors li")
    errors.first.wait_for()
    shown = {(e.get_attribute("data-row"), e.get_attribute("data-field")) for e in errors.all()}
    assert {("4", "deadline"), ("5", "frequency")} <= shown, shown
    assert errors.count() == len(shown)
    _axe(page, "load (errors)", seen)
    assert code not in {p["code"] for p in _get(api, "/api/v1/plans")["items"]}

    # The good file: the new plan opens.
    good = tmp_path / "good.csv"
    good.write_text(PLAN_CSV.format(code=code, deadline="2026-06-30", frequency="annual"))
    _choose_file(page, good)
    tab_to(page, ".plan-load button[type=submit]")
    page.keyboard.press("Enter")
    page.locator("#plan-title", has_text="Plan loaded in the console").wait_for()
    page.locator('tr[data-measure="1.1"]').wait_for()
    plan = next(p for p in _get(api, "/api/v1/plans")["items"] if p["code"] == code)
    assert page.evaluate("location.hash") == f"#/console/plan/{plan['id']}"
    _axe(page, "plan loaded", seen)

    # Edit the measure: an organisation named twice is refused on its field; then the new deadline is saved.
    tab_to(page, 'tr[data-measure="1.1"] a')
    page.keyboard.press("Enter")
    focus_on_heading(page, "#measure-title")
    tab_to(page, ".measure > button")
    page.keyboard.press("Enter")
    wait_until(page, "document.activeElement.matches('#edit-measure input[name=title]')")  # on its first field
    _axe(page, "measure (edit form)", seen)
    retype(page, '#edit-measure input[name="deadline"]', "2026-09-30")
    retype(page, '#edit-measure input[name="organisations"]', "demo-sipa; demo-sipa")
    tab_to(page, "#edit-measure button[type=submit]")
    page.keyboard.press("Enter")
    refused = page.locator("#edit-measure-organisations-error")
    assert "more than once" in refused.inner_text()
    wait_until(page, "document.activeElement.matches('#edit-measure input[name=organisations]')")  # the refused one
    assert page.locator('#edit-measure input[name="organisations"]').get_attribute("aria-invalid") == "true"
    assert _get(api, f"/api/v1/plans/{plan['id']}/audit")["items"][0]["action"] != "measure.updated"  # not saved
    page.keyboard.press("Control+A")
    page.keyboard.type("demo-sipa; demo-state-coordinator")
    tab_to(page, "#edit-measure button[type=submit]")
    page.keyboard.press("Enter")
    page.locator("p.notice", has_text="Saved.").wait_for()
    page.locator(".measure > p.hint", has_text="deadline 2026-09-30").wait_for()  # shown once the measure reloads
    wait_until(page, "document.activeElement.matches('.measure > button')")  # the form is gone: back on its button
    measure_id = page.evaluate("location.hash.split('/').pop()")
    assert _get(api, f"/api/v1/measures/{measure_id}")["deadline"] == "2026-09-30"
    audit = _get(api, f"/api/v1/plans/{plan['id']}/audit")["items"]
    assert audit[0]["action"] == "measure.updated"

    # Edit the plan's title from its progress page: the heading shows the new one, the API returns it.
    page.goto(f"/#/console/plan/{plan['id']}")
    focus_on_heading(page, "#plan-title")
    tab_to(page, ".plan > button")
    page.keyboard.press("Enter")
    wait_until(page, "document.activeElement.matches('#edit-plan input[name=title]')")
    page.keyboard.press("Control+A")
    page.keyboard.type("Plan renamed in the console")
    tab_to(page, "#edit-plan button[type=submit]")
    page.keyboard.press("Enter")
    page.locator("#plan-title", has_text="Plan renamed in the console").wait_for()
    assert _get(api, f"/api/v1/plans/{plan['id']}")["title"] == "Plan renamed in the console"
    assert all(not problems for problems in seen.values()), seen
