"""Which addresses a source may point at: internal networks are refused unless the operator allows them.

An address is internal when it is not publicly routable: loopback, the private ranges, link-local
(169.254.169.254 is the cloud metadata service), carrier-grade NAT, unique-local and link-local
IPv6, the unspecified and reserved ranges, and IPv6 addresses that embed one of those (IPv4-mapped,
6to4, NAT64). ``POLICYWATCH_ALLOWED_NETWORKS`` names the internal networks allowed all the same.
A host name is refused when any address it resolves to is: the client may connect to any of them.
Names resolve through the system resolver, so the shorthand forms it accepts (``127.1``,
``2852039166``) are judged by the address they stand for.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from crawler.sources.declarations import DeclarationError, SourcesFile
from policywatch.settings import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: NAT64's well-known prefix: its last 32 bits are the IPv4 address reached.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: Host names resolved at once when a sources file is checked.
RESOLVERS = 16


def resolve(host: str, flags: int = 0) -> list[str]:
    """The addresses ``host`` resolves to (an address resolves to itself); OSError when none."""
    found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=flags)
    return sorted({str(info[4][0]) for info in found})


class AddressPolicy:
    """Refuses internal addresses outside ``allowed``."""

    def __init__(self, allowed: Iterable[Network]) -> None:
        self.allowed = tuple(allowed)

    def refusal(self, address: str) -> str | None:
        """Why ``address`` (an IP address) may not be fetched, or None when it may."""
        kind = self._internal(address)
        return f"{address} is {kind}" if kind else None

    def host_refusal(self, host: str) -> str | None:
        """Why ``host`` (a name or an address) may not be fetched, or None; a name that does not
        resolve is not refused here (its fetch fails on its own)."""
        try:
            addresses = resolve(host)
        except (OSError, UnicodeError):
            return None
        for address in addresses:
            kind = self._internal(address)
            if kind:
                return f"{address} is {kind}" if address == host else f"{host} resolves to {address}, {kind}"
        return None

    def _internal(self, address: str) -> str | None:
        """What kind of internal address ``address`` is, when it is one not allowed; else None."""
        ip = ipaddress.ip_address(address.split("%")[0])
        reached = _embedded(ip) or ip
        if reached.is_global or any(reached in network for network in self.allowed):
            return None
        return f"{_kind(reached)}, not in POLICYWATCH_ALLOWED_NETWORKS"

    def check(
        self, declared: SourcesFile, origin: str, progress: Callable[[int, int], None] | None = None
    ) -> None:
        """DeclarationError naming each source of ``declared`` whose host is refused; ``progress`` is
        told (hosts checked, hosts) as their names resolve."""
        sources = [
            (platform.slug, document.slug, source.url)
            for platform in declared.platforms
            for document in platform.documents
            for source in document.sources
        ]
        hosts = sorted({urlsplit(url).hostname or "" for _, _, url in sources} - {""})
        refused = {}
        with ThreadPoolExecutor(min(RESOLVERS, len(hosts) or 1)) as pool:
            for done, (host, reason) in enumerate(zip(hosts, pool.map(self.host_refusal, hosts)), start=1):
                refused[host] = reason
                if progress:
                    progress(done, len(hosts))
        problems = [
            f"{origin}: platform {platform}, document {document}: source {url} is refused: {reason}"
            for platform, document, url in sources
            if (reason := refused.get(urlsplit(url).hostname or ""))
        ]
        if problems:
            raise DeclarationError("\n".join(problems))


def _embedded(ip: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), if any."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.ipv4_mapped or ip.sixtofour


def _kind(ip: Address) -> str:
    """What kind of internal address ``ip`` is, in an operator's words."""
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "private"
    return "not public"
