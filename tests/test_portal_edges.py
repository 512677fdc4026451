"""The portal's rough edges (issue 14, section 7), each in a real browser (Debian's Chromium,
Playwright, axe-core: the fixtures of tests/test_portal.py) or over HTTP: the dashboard's
tables fit their page, load errors in the page's language, map popups with the fields'
labels, keyword facets in their own spelling, plural forms, a sort control, and a search of
the data's values that keeps each caller's access rules."""

from __future__ import annotations

import pytest
import test_portal as shared
from test_portal import assert_accessible, expect

# The browser, the 200-record catalogue and a fresh page: tests/test_portal.py's fixtures.
browser, catalogue_of_200, portal = shared.browser, shared.catalogue_of_200, shared.portal

WIDTHS = (1280, 1000, 390)  # a laptop, a small one, a phone


def overflowing(page, selector: str) -> list[str]:
    """The cells of the tables under `selector` whose content is wider than the cell, and
    the scrolling boxes (the tables' wrappers, the page) wider than their view."""
    return page.evaluate(
        """(selector) => {
            const found = [];
            for (const cell of document.querySelectorAll(selector + ' td, ' + selector + ' th')) {
                if (cell.scrollWidth > cell.clientWidth + 1) {
                    found.push('cell: ' + cell.textContent.trim().slice(0, 60));
                }
            }
            for (const box of document.querySelectorAll('.table-responsive')) {
                if (box.scrollWidth > box.clientWidth + 1) { found.push('wrapper scrolls'); }
            }
            const root = document.documentElement;
            if (root.scrollWidth > root.clientWidth + 1) { found.push('page scrolls'); }
            return found;
        }""",
        selector,
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_dashboard_tables_fit_the_page(portal, width):
    portal.set_viewport_size({"width": width, "height": 900})
    portal.goto(portal.base + "/portal/dashboard")
    assert portal.locator("#recent-loads td.warnings li").count() > 0  # warnings are shown
    assert overflowing(portal, "main") == []
    assert_accessible(portal, f"dashboard-{width}", screenshot=False)


@pytest.mark.parametrize(
    ("lang", "labels", "names"),
    [
        ("el", ["Όνομα", "Όνομα (λατινικά)", "Κωδικός"], ["name_greek", "cartodb_id"]),
        ("en", ["Name (Greek)", "Name", "Code"], ["name_greek", "cartodb_id"]),
    ],
)
def test_map_popups_show_the_tables_labels(portal, lang, labels, names):
    """collections/municipalities.yml labels its fields; the popup says what the table says."""
    portal.goto(portal.base + f"/portal/datasets/municipalities?lang={lang}")
    headings = portal.locator("#attribute-table thead th").all_inner_texts()
    polygons = portal.locator("#preview-map path.leaflet-interactive")
    expect(polygons).to_have_count(11)
    polygons.first.click(force=True)
    popup = portal.locator(".leaflet-popup-content")
    popup.wait_for()
    shown = popup.locator("th").all_inner_texts()
    assert sorted(shown) == sorted(labels)
    assert shown == [h for h in headings if h in shown]  # in the table's order
    assert not set(names) & set(shown)
    assert_accessible(portal, f"popup-{lang}", screenshot=False)
