"""The dns probe: ask a nameserver for one name's records; observe the rcode and the answers."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import timedelta

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.inet
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.reversename
from dns.rdtypes.IN.A import A
from dns.rdtypes.IN.AAAA import AAAA
from dns.rdtypes.IN.SRV import SRV
from dns.rdtypes.mxbase import MXBase
from dns.rdtypes.nsbase import NSBase
from dns.rdtypes.txtbase import TXTBase

from bot.config import DnsCheck
from bot.monitoring.checks.errors import describe_error, short_duration
from bot.monitoring.checks.result import Observation

Server = tuple[str, int]  # an IP address and a port

# EDNS0 with the payload size DNS Flag Day 2020 recommends: large answers (TXT, DNSKEY) come
# over UDP without fragmenting; anything larger is truncated and asked again over TCP.
_EDNS_PAYLOAD = 1232
# How long the system's resolver configuration (/etc/resolv.conf) is used before it is read
# again: a changed file is picked up, yet 10,000 checks don't read it on every run.
_SYSTEM_CONFIG_TTL = 60.0
# Answers that say "this server can't help", so the next of the system's nameservers is asked,
# as the C library's resolver does.
_TRY_NEXT = (dns.rcode.SERVFAIL, dns.rcode.REFUSED)


async def probe_dns(check: DnsCheck) -> Observation:
    """Ask the check's nameserver (or the system's, in order) for its record type; any rcode is
    an observation, while no answer at all raises (timeouts through the caller's deadline)."""
    rdtype = dns.rdatatype.from_text(check.record_type)
    query = dns.message.make_query(_query_name(check), rdtype, use_edns=0, payload=_EDNS_PAYLOAD)
    started = time.perf_counter()
    deadline = time.monotonic() + check.timeout.total_seconds()
    servers = await _servers(check)
    response = await _ask(query, servers, deadline)
    elapsed = timedelta(seconds=time.perf_counter() - started)
    # Sorted: servers rotate round-robin records, and a failing check's reason (which shows
    # them) should not change on every run.
    answers = tuple(
        sorted(
            _answer_text(rdata)
            for rrset in response.answer
            # An A query may be answered through a CNAME chain: the addresses are the answers.
            if rrset.rdtype == rdtype and rrset.rdclass == dns.rdataclass.IN
            for rdata in rrset
        )
    )
    return Observation(
        connected=True,
        response_time=elapsed,
        dns_rcode=dns.rcode.to_text(response.rcode()),
        answers=answers,
        body="\n".join(answers),
    )


def describe_dns_error(error: BaseException, check: DnsCheck) -> str:
    """The alert's reason when no nameserver answered: `no answer from 10.0.0.53:53 within 5s`."""
    where = nameservers_of(check)
    timed_out = isinstance(error, dns.exception.Timeout)
    # asyncio's deadline raises a TimeoutError without an errno; a socket's has one.
    if timed_out or (isinstance(error, TimeoutError) and error.errno is None):
        return f"no answer from {where} within {short_duration(check.timeout)}"
    if isinstance(error, dns.resolver.NoResolverConfiguration):
        return "no nameserver is configured on this machine (resolv.conf)"
    if isinstance(error, ConnectionRefusedError):
        return f"no DNS server at {where} (connection refused)"
    if isinstance(error, dns.exception.FormError | dns.query.BadResponse):
        return f"malformed DNS response from {where}"
    configured = check.nameserver_address
    host = configured[0] if configured else where
    return describe_error(error, host=host, timeout=check.timeout)


def nameservers_of(check: DnsCheck) -> str:
    """Who the check asks, as alerts name it: `10.0.0.53:53`, or the system's nameservers."""
    if check.nameserver is not None:
        return check.nameserver
    try:
        servers = _system_servers()
    except dns.exception.DNSException:
        return "the system's nameservers"
    return ", ".join(_label(server) for server in servers)


def _query_name(check: DnsCheck) -> dns.name.Name:
    if check.record_type == "PTR":
        try:
            return dns.reversename.from_address(check.host)  # 10.0.0.1 → 1.0.0.10.in-addr.arpa.
        except (ValueError, dns.exception.SyntaxError):
            pass  # already a name, such as 1.0.0.10.in-addr.arpa
    # Absolute: a health check means exactly this name, never one of resolv.conf's search list.
    return dns.name.from_text(check.host, origin=dns.name.root)


async def _servers(check: DnsCheck) -> list[Server]:
    configured = check.nameserver_address
    if configured is None:
        return _system_servers()
    host, port = configured
    if dns.inet.is_address(host):
        return [(host, port)]
    # A nameserver given by name is looked up on every run, so a renumbered server is followed.
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    return list(dict.fromkeys((str(info[4][0]), port) for info in infos))


async def _ask(
    query: dns.message.Message, servers: list[Server], deadline: float
) -> dns.message.Message:
    """The first useful response: a server that doesn't answer, fails or refuses hands the
    query on to the next; the last one has whatever time is left, bounded by the caller."""
    unhelpful: dns.message.Message | None = None
    for index, (address, port) in enumerate(servers):
        last = index == len(servers) - 1
        # The time left is shared by the servers left, so one dead server can't use it all.
        share = None if last else max(0.0, deadline - time.monotonic()) / (len(servers) - index)
        try:
            response = await _exchange(query, address, port, share)
        except (OSError, dns.exception.DNSException):
            if last and unhelpful is None:
                raise
            continue
        if response.rcode() in _TRY_NEXT and not last:
            unhelpful = response
            continue
        return response
    assert unhelpful is not None  # the loop returns or raises at the last server otherwise
    return unhelpful


async def _exchange(
    query: dns.message.Message, address: str, port: int, seconds: float | None
) -> dns.message.Message:
    backend = dns.asyncbackend.get_backend("asyncio")
    # A connected UDP socket, as the C library's resolver uses: a port nothing listens on is
    # refused at once (ICMP port unreachable) instead of waiting out the whole timeout.
    family = dns.inet.af_for_address(address)
    sock = await backend.make_socket(  # type: ignore[no-untyped-call]
        family, socket.SOCK_DGRAM, 0, None, (address, port)
    )
    async with sock:
        response, _ = await dns.asyncquery.udp_with_fallback(
            query, address, timeout=seconds, port=port, udp_sock=sock, backend=backend
        )
    return response


_system: tuple[float, list[Server]] | None = None


def _system_servers() -> list[Server]:
    global _system
    now = time.monotonic()
    if _system is None or now - _system[0] > _SYSTEM_CONFIG_TTL:
        resolver = dns.resolver.Resolver(configure=True)
        ports = resolver.nameserver_ports
        servers = [(str(ns), ports.get(str(ns), resolver.port)) for ns in resolver.nameservers]
        if not servers:
            raise dns.resolver.NoResolverConfiguration
        _system = (now, servers)
    return _system[1]


def _label(server: Server) -> str:
    address, port = server
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _answer_text(rdata: dns.rdata.Rdata) -> str:
    """One answer as people write it in a condition: names without the final dot."""
    if isinstance(rdata, A | AAAA):
        return str(rdata.address)
    if isinstance(rdata, MXBase):  # the host, as Gatus shows it
        return _name(rdata.exchange)
    if isinstance(rdata, SRV):  # host:port, as Gatus shows it
        return f"{_name(rdata.target)}:{rdata.port}"
    if isinstance(rdata, NSBase):  # CNAME, NS, PTR
        return _name(rdata.target)
    if isinstance(rdata, TXTBase):  # one text, however the server split it into strings
        return b"".join(rdata.strings).decode("utf-8", errors="replace")
    return rdata.to_text(origin=dns.name.root, relativize=True)


def _name(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True)
