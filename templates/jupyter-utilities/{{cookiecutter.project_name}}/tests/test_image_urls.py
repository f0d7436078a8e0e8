"""Images by URL go through the shared SSRF guard (tested on its own in test_url_guard.py) and come back decoded.

Nothing leaves the machine: refused URLs are refused before any connection, and the one server contacted runs on
127.0.0.1, trusted for these tests only through URL_TRUSTED_ADDRESSES.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from {{ cookiecutter.__package_name }}.data import DEFAULT_URL_ALLOWED_HOSTS, load_image
from {{ cookiecutter.__package_name }}.errors import ImageError


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("site")
    Image.new("RGB", (30, 20), (200, 10, 10)).save(folder / "red.png")
    (folder / "notes.txt").write_text("not an image")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def trusted_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("URL_TRUSTED_ADDRESSES", "127.0.0.1")


def test_an_allowed_url_is_fetched_and_decoded(site: str, trusted_local: None) -> None:
    image = load_image(f"{site}/red.png", allowed_hosts="127.0.0.1")
    assert image.size == (30, 20) and image.getpixel((0, 0)) == (200, 10, 10)


@pytest.mark.parametrize(
    ("url", "hosts", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "private, loopback or link-local address"),
        ("http://evil.example.net/cat.png", "images.example.com", "not on the allow-list (url_forbidden)"),
        ("http://user:pw@images.example.com/a.png", "images.example.com", "URLs with credentials are not fetched"),
    ],
)
def test_dangerous_urls_are_refused_in_one_line(url: str, hosts: str, message: str) -> None:
    with pytest.raises(ImageError) as caught:
        load_image(url, allowed_hosts=hosts)
    assert str(caught.value).startswith(url) and message in str(caught.value) and "\n" not in str(caught.value)


def test_a_local_server_is_refused_unless_trusted(site: str) -> None:
    with pytest.raises(ImageError, match="private, loopback or link-local"):
        load_image(f"{site}/red.png", allowed_hosts="127.0.0.1")


def test_what_is_not_an_image_is_refused(site: str, trusted_local: None) -> None:
    with pytest.raises(ImageError, match="notes.txt: not an image"):
        load_image(f"{site}/notes.txt", allowed_hosts=["127.0.0.1"])
    with pytest.raises(ImageError, match="HTTP 404"):
        load_image(f"{site}/missing.png", allowed_hosts=["127.0.0.1"])


def test_the_allow_list_defaults_to_the_environment_then_the_generated_hosts(
    site: str, trusted_local: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("URL_ALLOWED_HOSTS", "127.0.0.1")
    assert load_image(f"{site}/red.png").size == (30, 20)
    monkeypatch.delenv("URL_ALLOWED_HOSTS")
    with pytest.raises(ImageError, match="not on the allow-list"):
        load_image(f"{site}/red.png")
    generated = "{{ cookiecutter.url_allowed_hosts }}"
    assert DEFAULT_URL_ALLOWED_HOSTS == generated


def test_a_bad_trusted_address_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("URL_TRUSTED_ADDRESSES", "cache.internal")
    with pytest.raises(ImageError, match="URL_TRUSTED_ADDRESSES: "):
        load_image("https://images.example.com/cat.png", allowed_hosts="images.example.com")
