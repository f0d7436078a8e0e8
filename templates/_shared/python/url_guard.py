"""Fetch an image by URL without opening an SSRF hole.

Rules, applied to the first URL and again to every redirect target:
- http or https only, no user:password@, the host on the allow-list (`.example.com` allows sub-domains);
- the host is resolved once and every address must be public: no private, loopback, link-local
  (169.254.169.254, the cloud metadata service), multicast, reserved or unspecified address;
- the connection goes to the address that was checked (the name is not resolved again, so DNS
  rebinding cannot swap in another address); TLS still verifies the certificate for the host name;
- redirects are followed by hand, at most `url_max_redirects`; proxies from the environment are ignored;
- connect and read timeouts, an overall deadline, and a size cap enforced while streaming.

A refusal is a `UrlRefused` with an HTTP-style status (400 bad URL, 403 forbidden host or address, 413 too
large, 502 upstream failure, 504 timeout), a stable code and a one-line message; callers map it to their own
errors. `trusted_addresses` exempts listed addresses from the public-address rule (say, an internal image cache);
leave it empty otherwise.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

DEFAULT_USER_AGENT = "tapml-image-fetch"

Resolver = Callable[[str, int], list[str]]


class UrlRefused(Exception):
    """A URL that is not fetched, or a fetch that failed: an HTTP-style status, a stable code, a one-line message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class UrlPolicy:
    allowed_hosts: tuple[str, ...]
    max_bytes: int
    timeout_seconds: float = 5.0
    max_redirects: int = 3
    trusted_addresses: frozenset[str] = frozenset()
    resolver: Resolver = resolve

    def __post_init__(self) -> None:
        """Hosts compare in lower case; trusted addresses in their normal form (a bad one is a ValueError)."""
        object.__setattr__(
            self, "allowed_hosts", tuple(host.strip().lower() for host in self.allowed_hosts if host.strip())
        )
        object.__setattr__(self, "trusted_addresses", frozenset(_normal(address) for address in self.trusted_addresses))

    def host_allowed(self, host: str) -> bool:
        for entry in self.allowed_hosts:
            if entry.startswith("."):
                if host == entry[1:] or host.endswith(entry):
                    return True
            elif host == entry:
                return True
        return False


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


def check_url(url: str, policy: UrlPolicy) -> Target:
    """Apply every rule to `url`; raises UrlRefused (400 or 403) before any connection is made."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UrlRefused(400, "bad_url", "the URL cannot be parsed") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefused(400, "bad_url", "only http and https URLs are fetched")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused(400, "bad_url", "URLs with credentials are not fetched")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UrlRefused(400, "bad_url", "the URL has no host")
    if not policy.host_allowed(host):
        raise UrlRefused(403, "url_forbidden", f"host {host!r} is not on the allow-list")
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = policy.resolver(host, port)
    except (OSError, UnicodeError):
        raise UrlRefused(400, "bad_url", f"host {host!r} cannot be resolved") from None
    if not addresses:
        raise UrlRefused(400, "bad_url", f"host {host!r} cannot be resolved")
    for address in addresses:
        if not _public(address) and _normal(address) not in policy.trusted_addresses:
            raise UrlRefused(
                403,
                "url_forbidden",
                f"host {host!r} resolves to a private, loopback or link-local address; it is not fetched",
            )
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0])


def _normal(address: str) -> str:
    return str(ipaddress.ip_address(address.split("%", 1)[0]))


def _public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


class UrlFetcher:
    """Fetches under one policy; `transport` replaces the network (tests), `user_agent` names the caller."""

    def __init__(
        self,
        policy: UrlPolicy,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self.policy = policy
        self._client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(policy.timeout_seconds),
            headers={"User-Agent": user_agent, "Accept": "image/*"},
        )

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str) -> bytes:
        deadline = time.monotonic() + 2 * self.policy.timeout_seconds
        for _ in range(self.policy.max_redirects + 1):
            target = check_url(url, self.policy)
            try:
                with self._client.stream(
                    "GET",
                    _pinned_url(target),
                    headers={"Host": _host_header(target)},
                    extensions={"sni_hostname": target.host},
                ) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise UrlRefused(502, "fetch_failed", "the image server sent a redirect without Location")
                        url = urljoin(url, location)
                        continue
                    if response.status_code != 200:
                        raise UrlRefused(502, "fetch_failed", f"the image server answered HTTP {response.status_code}")
                    return self._read_capped(response, deadline)
            except httpx.TimeoutException:
                raise UrlRefused(504, "fetch_timeout", "fetching the image timed out") from None
            except httpx.HTTPError as exc:
                raise UrlRefused(502, "fetch_failed", f"fetching the image failed: {type(exc).__name__}") from None
        raise UrlRefused(400, "too_many_redirects", f"more than {self.policy.max_redirects} redirects")

    def _read_capped(self, response: httpx.Response, deadline: float) -> bytes:
        limit = self.policy.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise UrlRefused(413, "payload_too_large", f"the image is larger than {limit:,} bytes")
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > limit:
                raise UrlRefused(413, "payload_too_large", f"the image is larger than {limit:,} bytes")
            if time.monotonic() > deadline:
                raise UrlRefused(504, "fetch_timeout", "fetching the image timed out")
            chunks.append(chunk)
        return b"".join(chunks)


def _pinned_url(target: Target) -> str:
    parts = urlsplit(target.url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    return urlunsplit((target.scheme, f"{address}:{target.port}", parts.path or "/", parts.query, ""))


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    return target.host if target.port == default else f"{target.host}:{target.port}"
