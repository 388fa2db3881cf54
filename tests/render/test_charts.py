"""Server-drawn SVG charts: well-formed, scaled to their data, every label escaped."""

from __future__ import annotations

from xml.etree import ElementTree

from rdap.render import charts

SVG = "{http://www.w3.org/2000/svg}"


def test_stacked_bars_scale_to_the_largest_total_and_escape_labels() -> None:
    svg = charts.stacked_bars(
        "Requests <by> status",
        ["2026-11", "2026-12"],
        {"approved": [3, 0], "denied & more": [1, 7]},
    )
    tree = ElementTree.fromstring(str(svg))  # well-formed XML
    assert tree.get("role") == "img"
    assert tree.get("aria-label") == "Requests <by> status"
    bars = [r for r in tree.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    heights = {r.find(f"{SVG}title").text: float(r.get("height")) for r in bars}  # type: ignore[union-attr]
    # Heights are proportional to the counts (one scale for the whole chart).
    ratio = heights["2026-12, denied & more: 7"] / heights["2026-11, approved: 3"]
    assert abs(ratio - 7 / 3) < 1e-6
    assert "2026-12, approved: 0" not in heights  # nothing drawn for zero
    assert "<by>" not in str(svg)


def test_response_times_draw_the_sla_lines() -> None:
    svg = charts.response_times(
        "Response",
        ["2026-12"],
        {"standard": [30.0], "urgent": [None]},
        {"standard": 72, "urgent": 24},
    )
    tree = ElementTree.fromstring(str(svg))
    titles = [t.text for t in tree.iter(f"{SVG}title")]
    assert "SLA standard: 72 hours" in titles
    assert "SLA urgent: 24 hours" in titles
    assert "2026-12, standard: 30 hours" in titles
