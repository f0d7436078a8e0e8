"""Image URLs through the running server: the shared URL guard's refusals become the API's 4xx answers.

The guard itself is tested in test_url_guard.py (shared with other tapml templates). Nothing here leaves the
machine: every URL below is refused before any connection is made.
"""

from __future__ import annotations

import pytest

from conftest import Server


@pytest.mark.parametrize(
    "url, status",
    [
        ("http://169.254.169.254/latest/meta-data/", 403),
        ("http://localhost:9/cat.png", 403),
        ("http://evil.example.net/cat.png", 403),
        ("file:///etc/passwd", 400),
    ],
)
def test_server_refuses_dangerous_urls(server: Server, url: str, status: int) -> None:
    response = server.post(json={"url": url})
    assert response.status_code == status, response.text
    assert response.json()["error"] in ("url_forbidden", "bad_url")


def test_a_url_that_is_not_a_string_is_a_bad_url(server: Server) -> None:
    response = server.post(json={"url": ["http://images.example.com/cat.png"]})
    assert response.status_code == 400 and response.json()["error"] == "bad_url", response.text
