"""A small DNS server on a loopback port (UDP and TCP), for the dns probe's tests.

It answers from a zone given as a dict, and can be told to refuse, fail, stay silent or
truncate its UDP answers (so the client has to ask again over TCP)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import struct
from dataclasses import dataclass, field
from typing import Literal, cast

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

Mode = Literal["answer", "refuse", "servfail", "silent"]


@dataclass
class DnsServer:
    """`zone` maps (name, type) to records as text: {("www.example.test", "A"): ["127.0.0.1"]}.

    A name in the zone without the asked type is answered NOERROR with no records; a name not in
    the zone, NXDOMAIN. A CNAME is followed within the zone, as a recursive server would."""

    zone: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    mode: Mode = "answer"
    truncate_udp: bool = False
    host: str = "127.0.0.1"
    port: int = 0
    queries: list[tuple[str, str, str]] = field(default_factory=list)  # (transport, name, type)
    _udp: asyncio.DatagramTransport | None = None
    _tcp: asyncio.Server | None = None

    @property
    def address(self) -> str:
        """`127.0.0.1:53535` or `[::1]:53535`, as a check's `nameserver` is written."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    async def start(self) -> DnsServer:
        """Listen on `port`, or on a free port (the same number for UDP and TCP) when it is 0."""
        # A free UDP port, then the same number for TCP: retried in the rare case that another
        # process holds it for TCP.
        for _ in range(1 if self.port else 20):
            try:
                return await self._listen(self.port)
            except OSError as error:
                if self.port or error.errno != errno.EADDRINUSE:
                    raise
        raise RuntimeError("no port free for both UDP and TCP")

    async def _listen(self, port: int) -> DnsServer:
        udp, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Udp(self), local_addr=(self.host, port)
        )
        try:
            self._tcp = await asyncio.start_server(
                self._serve_tcp, self.host, udp.get_extra_info("sockname")[1]
            )
        except OSError:
            udp.close()
            raise
        self._udp, self.port = udp, udp.get_extra_info("sockname")[1]
        return self

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    def reply(self, wire: bytes, transport: str) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((transport, name, rdtype))
        if self.mode == "silent":
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if self.mode == "refuse":
            response.set_rcode(dns.rcode.REFUSED)
        elif self.mode == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
        elif transport == "udp" and self.truncate_udp:
            response.flags |= dns.flags.TC
        else:
            self._answer(response, name, rdtype)
        return response.to_wire()

    def _answer(self, response: dns.message.Message, name: str, rdtype: str) -> None:
        if not any(known == name for known, _ in self.zone):
            response.set_rcode(dns.rcode.NXDOMAIN)
            return
        for _ in range(8):  # a CNAME chain, as far as the zone goes
            records = self.zone.get((name, rdtype))
            if records:
                response.answer.append(_rrset(name, rdtype, records))
                return
            alias = self.zone.get((name, "CNAME"))
            if not alias or rdtype == "CNAME":
                return
            response.answer.append(_rrset(name, "CNAME", alias))
            name = alias[0].rstrip(".").lower()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                answer = self.reply(await reader.readexactly(length), "tcp")
                if answer is None:
                    continue
                writer.write(struct.pack("!H", len(answer)) + answer)
                await writer.drain()
        writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: Python 3.11's selector transport doesn't subclass it.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        answer = self._server.reply(data, "udp")
        if answer is not None and self._transport is not None:
            self._transport.sendto(answer, addr)


def _rrset(name: str, rdtype: str, records: list[str]) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(
        dns.name.from_text(name), 300, dns.rdataclass.IN, rdtype, records
    )
