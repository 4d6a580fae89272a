"""The dns probe against a real DNS server on loopback: answers, rcodes, silence, TCP fallback."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import dns.message
import dns.rcode
import pytest

from bot.config import Config, ConfigError, DnsCheck, parse_config
from bot.monitoring.checks.dns import _ask
from bot.monitoring.checks.probe import ProbeContext, run_check
from bot.monitoring.checks.result import CheckResult
from tests.support.dns_server import DnsServer, Mode

ZONE = {
    ("www.example.test", "A"): ["127.0.0.1"],
    ("www.example.test", "AAAA"): ["::1"],
    ("pool.example.test", "A"): ["10.0.0.2", "10.0.0.1"],
    ("alias.example.test", "CNAME"): ["www.example.test."],
    ("example.test", "MX"): ["10 mail.example.test.", "20 backup-mail.example.test."],
    ("example.test", "NS"): ["ns1.example.test."],
    ("example.test", "TXT"): ['"v=spf1 " "-all"', '"site-verification=abc123"'],
    ("ex.test", "SOA"): ["ns.ex.test. me.ex.test. 7 3600 600 86400 300"],
    ("_sip._tcp.example.test", "SRV"): ["10 5 5060 sip.example.test."],
    ("1.0.0.127.in-addr.arpa", "PTR"): ["www.example.test."],
    ("nodata.example.test", "TXT"): ['"only text here"'],
}


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsServer]:
    server = await DnsServer(dict(ZONE)).start()
    yield server
    await server.stop()


def dns_check(server: DnsServer | str, **fields: Any) -> DnsCheck:
    nameserver = server if isinstance(server, str) else server.address
    return DnsCheck.model_validate(
        {
            "id": "dns-web",
            "component": "web",
            "type": "dns",
            "host": "www.example.test",
            "nameserver": nameserver,
            **fields,
        }
    )


def descriptions(result: CheckResult) -> list[str]:
    return [condition.description for condition in result.conditions]


async def test_dns_a_record_answers(dns_server: DnsServer, probe_context: ProbeContext) -> None:
    check = dns_check(
        dns_server,
        conditions=["[DNS_RCODE] == NOERROR", "[BODY] == 127.0.0.1", "[RESPONSE_TIME] < 1000"],
    )

    result = await run_check(check, probe_context)

    assert result.success, result.reason
    assert result.dns_rcode == "NOERROR"
    assert descriptions(result)[:2] == [
        "[DNS_RCODE] (NOERROR) == NOERROR",
        "[BODY] (127.0.0.1) == 127.0.0.1",
    ]
    assert dns_server.queries == [("udp", "www.example.test", "A")]


async def test_dns_default_condition_is_noerror(
    dns_server: DnsServer, probe_context: ProbeContext
) -> None:
    result = await run_check(dns_check(dns_server), probe_context)

    assert result.success
    assert descriptions(result) == ["[DNS_RCODE] (NOERROR) == NOERROR"]


async def test_dns_nxdomain_is_the_reason(
    dns_server: DnsServer, probe_context: ProbeContext
) -> None:
    result = await run_check(dns_check(dns_server, host="gone.example.test"), probe_context)

    assert not result.success
    assert result.error is None, "NXDOMAIN is an answer, judged by the conditions"
    assert result.reason == "DNS NXDOMAIN"
    assert descriptions(result) == ["[DNS_RCODE] (NXDOMAIN) == NOERROR"]


async def test_dns_refused_is_the_reason(
    dns_server: DnsServer, probe_context: ProbeContext
) -> None:
    dns_server.mode = "refuse"

    result = await run_check(dns_check(dns_server), probe_context)

    assert not result.success
    assert result.reason == "DNS REFUSED"


async def test_dns_servfail_is_the_reason(
    dns_server: DnsServer, probe_context: ProbeContext
) -> None:
    dns_server.mode = "servfail"

    result = await run_check(dns_check(dns_server), probe_context)

    assert result.reason == "DNS SERVFAIL"


async def test_dns_nxdomain_can_be_the_expected_answer(
    dns_server: DnsServer, probe_context: ProbeContext
) -> None:
    check = dns_check(dns_server, host="old.example.test", conditions=["[DNS_RCODE] == NXDOMAIN"])

    result = await run_check(check, probe_context)

    assert result.success


async def test_dns_silent_server_times_out_naming_it(
    dns_server: DnsServer, probe_context: ProbeContext
) -> None:
    dns_server.mode = "silent"

    result = await run_check(dns_check(dns_server, timeout="300ms"), probe_context)

    assert not result.success
    assert result.reason == f"no answer from 127.0.0.1:{dns_server.port} within 300ms"


async def test_dns_nothing_listening_is_refused_at_once(
    closed_port: int, probe_context: ProbeContext
) -> None:
    result = await run_check(dns_check(f"127.0.0.1:{closed_port}", timeout="5s"), probe_context)

    assert not result.success
    assert result.reason == f"no DNS server at 127.0.0.1:{closed_port} (connection refused)"
    assert result.latency_ms < 2000, "the ICMP refusal, not the timeout"


async def test_dns_truncated_udp_answer_is_asked_again_over_tcp(
    dns_server: DnsServer, probe_context: ProbeContext
) -> None:
    dns_server.truncate_udp = True

    result = await run_check(
        dns_check(dns_server, conditions=["[BODY] == 127.0.0.1"]), probe_context
    )

    assert result.success, result.reason
    assert dns_server.queries == [
        ("udp", "www.example.test", "A"),
        ("tcp", "www.example.test", "A"),
    ]


@pytest.mark.parametrize(
    ("condition", "success", "description"),
    [
        ("[BODY] == 10.0.0.1", True, "[BODY] (10.0.0.1, 10.0.0.2) == 10.0.0.1"),
        ("[BODY] == 10.0.0.2", True, "[BODY] (10.0.0.1, 10.0.0.2) == 10.0.0.2"),
        ("[BODY] == 10.0.0.3", False, "[BODY] (10.0.0.1, 10.0.0.2) == 10.0.0.3"),
        ("[BODY] != 10.0.0.3", True, "[BODY] (10.0.0.1, 10.0.0.2) != 10.0.0.3"),
        ("[BODY] != 10.0.0.1", False, "[BODY] (10.0.0.1, 10.0.0.2) != 10.0.0.1"),
        ("[BODY] == pat(10.0.0.*)", True, "[BODY] (10.0.0.1, 10.0.0.2) == pat(10.0.0.*)"),
        ("[BODY] != pat(192.168.*)", True, "[BODY] (10.0.0.1, 10.0.0.2) != pat(192.168.*)"),
        (
            "[BODY] == any(10.0.0.9, 10.0.0.2)",
            True,
            "[BODY] (10.0.0.1, 10.0.0.2) == any(10.0.0.9, 10.0.0.2)",
        ),
        ("len([BODY]) == 2", True, "len([BODY]) (2) == 2"),
        ("has([BODY]) == true", True, "has([BODY]) (true) == true"),
    ],
)
async def test_dns_body_compares_with_each_answer(
    dns_server: DnsServer,
    probe_context: ProbeContext,
    condition: str,
    success: bool,
    description: str,
) -> None:
    check = dns_check(dns_server, host="pool.example.test", conditions=[condition])

    result = await run_check(check, probe_context)

    assert (result.success, descriptions(result)) == (success, [description])


@pytest.mark.parametrize(
    ("host", "record_type", "body"),
    [
        ("www.example.test", "AAAA", "::1"),
        ("alias.example.test", "A", "127.0.0.1"),  # through the CNAME
        ("alias.example.test", "CNAME", "www.example.test"),
        ("example.test", "MX", "backup-mail.example.test, mail.example.test"),
        ("example.test", "NS", "ns1.example.test"),
        ("example.test", "TXT", "site-verification=abc123, v=spf1 -all"),
        ("ex.test", "SOA", "ns.ex.test me.ex.test 7 3600 600 86400 300"),
        ("_sip._tcp.example.test", "SRV", "sip.example.test:5060"),
        ("127.0.0.1", "PTR", "www.example.test"),  # the address, looked up in in-addr.arpa
        ("1.0.0.127.in-addr.arpa", "PTR", "www.example.test"),
    ],
)
async def test_dns_answers_read_as_people_write_them(
    dns_server: DnsServer, probe_context: ProbeContext, host: str, record_type: str, body: str
) -> None:
    check = dns_check(dns_server, host=host, record_type=record_type, conditions=["[BODY] == x"])

    result = await run_check(check, probe_context)

    assert descriptions(result) == [f"[BODY] ({body}) == x"]


async def test_dns_txt_record_matched_by_pattern(
    dns_server: DnsServer, probe_context: ProbeContext
) -> None:
    check = dns_check(
        dns_server,
        host="example.test",
        record_type="TXT",
        conditions=["[BODY] == pat(site-verification=*)", "[BODY] == v=spf1 -all"],
    )

    result = await run_check(check, probe_context)

    assert result.success, result.reason


async def test_dns_name_without_the_type_has_no_answer(
    dns_server: DnsServer, probe_context: ProbeContext
) -> None:
    check = dns_check(
        dns_server,
        host="nodata.example.test",
        conditions=["[DNS_RCODE] == NOERROR", "[BODY] == 127.0.0.1", "len([BODY]) == 0"],
    )

    result = await run_check(check, probe_context)

    assert descriptions(result) == [
        "[DNS_RCODE] (NOERROR) == NOERROR",
        "[BODY] (no answer) == 127.0.0.1",
        "len([BODY]) (0) == 0",
    ]
    assert result.reason == "[BODY] (no answer) == 127.0.0.1"


async def test_dns_nameserver_given_by_name(
    dns_server: DnsServer, probe_context: ProbeContext
) -> None:
    # localhost may resolve to ::1 first, where nothing listens: the next address answers.
    check = dns_check(f"localhost:{dns_server.port}", conditions=["[BODY] == 127.0.0.1"])

    result = await run_check(check, probe_context)

    assert result.success, result.reason


@pytest.mark.parametrize(
    ("first", "second", "rcode"),
    [
        ("refuse", "answer", "NOERROR"),
        ("servfail", "answer", "NOERROR"),
        ("silent", "answer", "NOERROR"),  # after its share of the time
        ("refuse", "refuse", "REFUSED"),  # the last server's answer stands
    ],
)
async def test_dns_servers_are_asked_in_turn(first: Mode, second: Mode, rcode: str) -> None:
    # As with several nameservers in resolv.conf, or a nameserver name with several addresses.
    servers = [await DnsServer(dict(ZONE), mode=mode).start() for mode in (first, second)]
    query = dns.message.make_query("www.example.test", "A")
    try:
        response = await _ask(query, [(s.host, s.port) for s in servers], time.monotonic() + 0.6)
    finally:
        for server in servers:
            await server.stop()

    assert dns.rcode.to_text(response.rcode()) == rcode
    assert [len(server.queries) for server in servers] == [1, 1]


async def test_dns_server_not_listening_hands_the_query_to_the_next(closed_port: int) -> None:
    server = await DnsServer(dict(ZONE)).start()
    query = dns.message.make_query("www.example.test", "A")
    try:
        servers = [("127.0.0.1", closed_port), (server.host, server.port)]
        response = await _ask(query, servers, time.monotonic() + 5)
    finally:
        await server.stop()

    assert response.answer[0].to_text() == "www.example.test. 300 IN A 127.0.0.1"


async def test_dns_over_ipv6(probe_context: ProbeContext) -> None:
    try:
        server = await DnsServer(dict(ZONE), host="::1").start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        check = dns_check(server, conditions=["[BODY] == 127.0.0.1"])
        result = await run_check(check, probe_context)
    finally:
        await server.stop()

    assert result.success, result.reason


async def test_dns_ipv6_nameserver_named_in_the_timeout(probe_context: ProbeContext) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        server = await DnsServer(dict(ZONE), host="::1", mode="silent").start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        check = dns_check(server, timeout="200ms")
        result = await run_check(check, probe_context)
    finally:
        await server.stop()

    assert result.reason == f"no answer from [::1]:{server.port} within 200ms"


# --- config -------------------------------------------------------------------------------------


def config_of(**fields: Any) -> Config:
    """A config with one dns check; a field given as None is left out."""
    check = {"id": "dns-web", "component": "web", "type": "dns", "host": "www.example.com"}
    check = {key: value for key, value in {**check, **fields}.items() if value is not None}
    return parse_config({"components": [{"id": "web", "name": "Web"}], "checks": [check]})


def config_problems(**fields: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_of(**fields)
    return [str(issue) for issue in caught.value.issues]


def test_dns_check_defaults() -> None:
    check = config_of().checks[0]

    assert isinstance(check, DnsCheck)
    assert (check.record_type, check.nameserver) == ("A", None)
    assert check.effective_conditions() == ["[DNS_RCODE] == NOERROR"]


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("10.0.0.53", "10.0.0.53:53"),
        ("10.0.0.53:5353", "10.0.0.53:5353"),
        ("[2001:db8::53]:5353", "[2001:db8::53]:5353"),
        ("[2001:db8::53]", "[2001:db8::53]:53"),
        ("2001:db8::53", "[2001:db8::53]:53"),
        ("ns1.example.com", "ns1.example.com:53"),
        ("ns1.example.com:53", "ns1.example.com:53"),
    ],
)
def test_dns_nameserver_forms(written: str, normalised: str) -> None:
    check = config_of(nameserver=written).checks[0]

    assert isinstance(check, DnsCheck)
    assert check.nameserver == normalised


def test_dns_record_type_is_case_insensitive() -> None:
    check = config_of(record_type="mx").checks[0]

    assert isinstance(check, DnsCheck)
    assert check.record_type == "MX"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"record_type": "AX"},
            "checks[0].record_type: unknown record type 'AX'; expected one of A, AAAA, CAA",
        ),
        (
            {"nameserver": "10.0.0.53:99999"},
            "checks[0].nameserver: the port in '10.0.0.53:99999' must be a number from 1 to 65535",
        ),
        ({"nameserver": "10.0.0.53:dns"}, "checks[0].nameserver: the port in '10.0.0.53:dns'"),
        ({"nameserver": "[2001:db8::53"}, "checks[0].nameserver: expected [IPv6 address]:port"),
        ({"nameserver": "2001:db8::zz"}, "checks[0].nameserver: '2001:db8::zz' is not an IPv6"),
        (
            {"nameserver": "dns server"},
            "checks[0].nameserver: 'dns server' is not an IP address or host name; e.g. 10.0.0.53",
        ),
        (
            {"nameserver": "https://dns.google/dns-query"},
            "checks[0].nameserver: 'https://dns.google/dns-query' is a URL; dns checks ask over "
            "plain DNS",
        ),
        (
            {"host": "www example.com"},
            "checks[0].host: 'www example.com' is not a DNS name; write it like www.example.com",
        ),
        (
            {"host": "10.0.0.1"},
            "checks[0].host: '10.0.0.1' is an IP address; only a PTR check looks one up",
        ),
        ({"host": None}, "checks[0].host: required key is missing"),
        ({"query-type": "A"}, "checks[0].query-type: unknown key"),
        ({"conditions": ["[DNS_RCODE] = NOERROR"]}, "checks[0].conditions: condition 1"),
    ],
)
def test_dns_config_mistakes_name_the_key(fields: dict[str, Any], expected: str) -> None:
    found = config_problems(**fields)

    assert any(expected in problem for problem in found), found


def test_dns_ptr_check_takes_an_address() -> None:
    check = config_of(host="10.0.0.1", record_type="PTR").checks[0]

    assert isinstance(check, DnsCheck)
    assert check.host == "10.0.0.1"


def test_unknown_check_type_lists_dns() -> None:
    assert any(
        "unknown check type 'dnss'; expected http, tcp, tls, dns or journey" in problem
        for problem in config_problems(type="dnss")
    )
