"""The URL guard: scheme, allow-list, address checks on every hop, size cap, timeouts.

Nothing here leaves the machine: blocked addresses (169.254.169.254, 10.x) are refused before any
connection, and the only server contacted is a local one on 127.0.0.1.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import httpx
import pytest

PROJECT = Path(__file__).resolve().parents[1]


def project_module() -> ModuleType:
    """This project's copy of the shared module (the same test runs in every project that ships it), or the shared
    source itself when these tests run in tapml's own suite."""
    if (PROJECT / "url_guard.py").is_file():
        return importlib.import_module("url_guard")
    for folder in (PROJECT, PROJECT / "src"):
        for path in sorted(folder.glob("*/url_guard.py")):
            return importlib.import_module(f"{path.parent.name}.url_guard")
    raise ImportError(f"no <package>/url_guard.py under {PROJECT}")


url_guard = project_module()
UrlFetcher = url_guard.UrlFetcher
UrlPolicy = url_guard.UrlPolicy
UrlRefused = url_guard.UrlRefused
check_url = url_guard.check_url

IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # what the guard fetches is bytes; it never decodes them
PUBLIC = "93.184.216.34"


def fake_resolver(table: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return table[host]
        raise OSError(f"unknown host {host}")

    return resolve


def policy(**kwargs) -> UrlPolicy:
    defaults = {
        "allowed_hosts": ("images.example.com", ".cdn.example.com", "localhost", "169.254.169.254", "10.20.30.40"),
        "max_bytes": 100_000,
        "timeout_seconds": 1.0,
        "resolver": fake_resolver(
            {
                "images.example.com": [PUBLIC],
                "a.cdn.example.com": [PUBLIC],
                "localhost": ["127.0.0.1"],
                "169.254.169.254": ["169.254.169.254"],
                "10.20.30.40": ["10.20.30.40"],
            }
        ),
    }
    return UrlPolicy(**{**defaults, **kwargs})


def refused(url: str, rules: UrlPolicy) -> UrlRefused:
    with pytest.raises(UrlRefused) as caught:
        check_url(url, rules)
    return caught.value


def test_public_allowed_host_passes_and_is_pinned() -> None:
    target = check_url("https://images.example.com/cat.png?size=1", policy())
    assert (target.host, target.port, target.address) == ("images.example.com", 443, PUBLIC)
    assert check_url("http://a.cdn.example.com/x.jpg", policy()).address == PUBLIC


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://images.example.com/a.png",
        "gopher://images.example.com/",
        "http://user:secret@images.example.com/a.png",
        "http:///nohost",
        "not a url",
    ],
)
def test_bad_urls_are_400(url: str) -> None:
    assert refused(url, policy()).status == 400


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example.net/a.png",
        "http://images.example.com.evil.net/",
        "http://cdn.example.com.evil/",
        "http://2130706433/",
    ],
)
def test_hosts_off_the_allow_list_are_403(url: str) -> None:
    error = refused(url, policy())
    assert (error.status, error.code) == (403, "url_forbidden")
    assert "allow-list" in error.message


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "169.254.169.254",
        "10.20.30.40",
        "192.168.1.5",
        "172.16.0.1",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_non_public_addresses_are_403_after_resolution(address: str) -> None:
    rules = policy(resolver=fake_resolver({"images.example.com": [PUBLIC, address]}))
    error = refused("http://images.example.com/a.png", rules)
    assert (error.status, error.code) == (403, "url_forbidden")
    assert "private, loopback or link-local" in error.message


def test_loopback_and_metadata_service_are_refused_before_connecting() -> None:
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: calls.append(request) or httpx.Response(200, content=IMAGE))
    fetcher = UrlFetcher(policy(), transport=transport)
    for url in ("http://localhost:8080/", "http://169.254.169.254/latest/meta-data/iam/"):
        with pytest.raises(UrlRefused) as caught:
            fetcher.fetch(url)
        assert caught.value.status == 403
    assert calls == []


def test_the_policy_normalises_hosts_and_refuses_a_bad_trusted_address() -> None:
    rules = policy(allowed_hosts=(" Images.Example.COM ", "", ".CDN.example.com"), trusted_addresses={"::FFFF:7f00:1"})
    assert rules.allowed_hosts == ("images.example.com", ".cdn.example.com")
    assert rules.trusted_addresses == frozenset({"::ffff:7f00:1"})
    with pytest.raises(ValueError):
        policy(trusted_addresses={"not-an-address"})


def test_the_fetcher_names_its_caller_and_asks_for_images() -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(200, content=IMAGE))
    fetcher = UrlFetcher(policy(), transport=transport, user_agent="vision-lab-notebooks")
    assert fetcher.fetch("https://images.example.com/cat.png") == IMAGE
    (request,) = seen
    assert request.headers["User-Agent"] == "vision-lab-notebooks" and request.headers["Accept"] == "image/*"
    assert request.headers["Host"] == "images.example.com" and request.url.host == PUBLIC
    fetcher.close()


# --- redirects, size and time against a local server on 127.0.0.1 --------------------------------


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        routes = {
            "/image.png": (200, {"Content-Type": "image/png"}, IMAGE),
            "/hop": (302, {"Location": "/image.png"}, b""),
            "/to-private": (302, {"Location": "http://10.20.30.40/admin"}, b""),
            "/to-metadata": (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
            "/to-elsewhere": (302, {"Location": "http://evil.example.net/x.png"}, b""),
            "/loop": (302, {"Location": "/loop"}, b""),
            "/big": (200, {"Content-Type": "image/png"}, b"\x00" * 200_000),
            "/missing": (404, {}, b"no"),
        }
        if self.path == "/slow":
            time.sleep(3)
            routes["/slow"] = (200, {}, IMAGE)
        status, headers, body = routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def local_site() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def fetcher() -> Iterator[UrlFetcher]:
    # 127.0.0.1 is trusted here only so the test can reach its own server; every hop is still checked.
    rules = policy(
        allowed_hosts=("127.0.0.1", "10.20.30.40", "169.254.169.254"),
        resolver=lambda host, port: [host],
        trusted_addresses=frozenset({"127.0.0.1"}),
    )
    instance = UrlFetcher(rules)
    yield instance
    instance.close()


def test_fetch_and_follow_a_safe_redirect(local_site: str, fetcher: UrlFetcher) -> None:
    assert fetcher.fetch(local_site + "/image.png") == IMAGE
    assert fetcher.fetch(local_site + "/hop") == IMAGE


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata"])
def test_redirect_to_a_private_address_is_refused(local_site: str, fetcher: UrlFetcher, path: str) -> None:
    with pytest.raises(UrlRefused) as caught:
        fetcher.fetch(local_site + path)
    assert (caught.value.status, caught.value.code) == (403, "url_forbidden")
    assert "private, loopback or link-local" in caught.value.message


def test_redirect_off_the_allow_list_is_refused(local_site: str, fetcher: UrlFetcher) -> None:
    with pytest.raises(UrlRefused) as caught:
        fetcher.fetch(local_site + "/to-elsewhere")
    assert caught.value.status == 403


def test_limits(local_site: str, fetcher: UrlFetcher) -> None:
    cases = {"/loop": 400, "/big": 413, "/missing": 502, "/slow": 504}
    for path, status in cases.items():
        with pytest.raises(UrlRefused) as caught:
            fetcher.fetch(local_site + path)
        assert caught.value.status == status, path
