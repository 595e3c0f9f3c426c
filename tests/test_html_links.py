"""Every link of the HTML pages leads somewhere: the header's JSON link, navigation, alternates, data links.

A new user's trial found the viewer page's "JSON" link answering 400 (the viewer has no JSON form; the link now
goes to its collection's document). Every link to this server on the main HTML pages must answer < 400, except
EDR query endpoints given bare (they need their query parameters: a 400 naming them is right) and POST-only paths.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

PAGES = ["/?f=html", "/collections?f=html", "/collections/coads?f=html", "/collections/coads/viewer",
         "/collections/coads/position?coords=POINT(-30 10)&parameter-name=SST&f=html", "/processes?f=html",
         "/conformance?f=html", "/collections/places/items?limit=2&f=html"]
QUERIES = ("position", "radius", "area", "cube", "trajectory", "corridor", "execution")
POST_ONLY = ("/mcp",)


def _links(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)]


@pytest.mark.parametrize("page", PAGES)
def test_every_link_of_the_page_answers(client, page):
    r = client.get(page)
    assert r.status_code == 200, (page, r.text[:300])
    local = []
    for h in _links(r.text):
        parts = urlsplit(h)
        if parts.netloc not in ("", "testserver") or not parts.path.startswith("/") or "{" in h:
            continue  # other sites, fragments, templates filled in by scripts
        if parts.path.rstrip("/").rsplit("/", 1)[-1] in QUERIES and not parts.query or parts.path in POST_ONLY:
            continue
        local.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert local, page
    bad = [(h, s) for h in dict.fromkeys(local[:150]) if (s := client.get(h).status_code) >= 400]
    assert bad == [], (page, bad)
