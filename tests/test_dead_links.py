"""No dead links: every internal link on the pages of a seeded workspace answers.

The crawl starts at the workspace page and follows every ``<a href>`` of the hub's own pages
(and the redirects between them), as a signed-in owner would click through. Links that leave
the hub (the sandbox's Xero and Amazon pages, or the real hosts) are requested once but not
followed further.
"""

from __future__ import annotations

import html
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

from django.urls import reverse

from tests.conftest import client_for
from tests.workspace_support import fast_limits, seeded_workspace

HREF = re.compile(r'<a\s[^>]*href="([^"]+)"')
SKIP = ("/admin/", "/accounts/logout/")


def _hub_page(path: str) -> bool:
    return not path.startswith(("/sandbox/", "/static/"))


def test_every_link_of_a_seeded_workspace_answers(sandbox_url: str, owner) -> None:
    with fast_limits():
        _crawl(sandbox_url, owner)


def _crawl(sandbox_url: str, owner) -> None:
    workspace = seeded_workspace(sandbox_url, owner)
    client = client_for(owner)
    site = urlsplit(sandbox_url)
    start = reverse("workspace", kwargs={"code": workspace.customer.code})
    queue: deque[tuple[str, str]] = deque([(start, "start")])
    seen = {start}
    visited = 0
    while queue:
        path, found_on = queue.popleft()
        response = client.get(path)
        visited += 1
        assert response.status_code in (200, 301, 302), (path, found_on, response.status_code)
        if response.status_code in (301, 302):
            target = urlsplit(urljoin(path, response["Location"]))
            if target.netloc in ("", site.netloc) and _hub_page(target.path):
                follow = target.path + (f"?{target.query}" if target.query else "")
                if follow not in seen:
                    seen.add(follow)
                    queue.append((follow, path))
            continue
        if not _hub_page(path) or "text/html" not in response.get("Content-Type", ""):
            continue
        for href in HREF.findall(response.content.decode()):
            url = urlsplit(urljoin(path, html.unescape(href)))
            if url.scheme not in ("", "http") or url.netloc not in ("", site.netloc):
                continue  # the real Xero or Amazon: not ours to crawl
            link = url.path + (f"?{url.query}" if url.query else "")
            if link.startswith(SKIP) or link in seen:
                continue
            seen.add(link)
            queue.append((link, path))
    pages = {p.split("?")[0] for p in seen}
    code = workspace.customer.code
    for name, kwargs in (
        ("link-detail", {"link_id": workspace.seller.pk}),
        ("settlements", {"link_id": workspace.seller.pk}),
        ("settlements-import", {"link_id": workspace.seller.pk}),
        ("purchases", {"link_id": workspace.business.pk}),
        ("purchases-import", {"link_id": workspace.business.pk}),
        ("activity", {}),
        ("connections", {}),
    ):
        assert reverse(name, kwargs={"code": code, **kwargs}) in pages, name
    assert visited > 30
