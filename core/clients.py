"""Who a per-client limit counts, from the address a request came from.

Both the callback limits (callback.policy) and the sign-in limits (agents.auth) count by client, so they
agree on what one client is.
"""

from __future__ import annotations

import ipaddress

# The longest text client_key() returns: an IPv6 address as text, or a /64 network with its suffix.
MAX_CLIENT_LENGTH = 45


def client_key(address: str | None) -> str | None:
    """Who a per-client limit counts: an IPv4 address, or the /64 network of an IPv6 address.

    One IPv6 subscriber is routinely given a whole /64 and may use any of its 2**64 addresses, so
    counting addresses would let one client multiply the limit at will. An IPv4 address written as
    IPv6 (::ffff:a.b.c.d, as a dual-stack socket reports it) is that IPv4 address.
    """
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:MAX_CLIENT_LENGTH] or None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
