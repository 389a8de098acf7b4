"""Teradata connection strings and driver errors: ``jdbc:teradata://host/TMODE=ANSI,DATABASE=db,${secret}``.

Connection-string parameters are checked against the names teradatasql accepts (anything else is rejected, so
another connector's properties never reach a Teradata logon), and the codes and causes teradatasql writes into its
error messages are read out (``TeradataAdapter.error_rules`` says what each code means to the Athena user).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from connector.connection import SECRET_PLACEHOLDER
from connector.errors import ConfigurationError

log = logging.getLogger("afq.teradata")

URL_PREFIX = "jdbc:teradata://"
DEFAULT_PORT = 1025


def _text(value: str) -> str:
    return value


def _upper(value: str) -> str:
    return value.strip().upper()


def _boolean(value: str) -> str:
    text = value.strip().lower()
    if text in ("true", "on", "yes", "1"):
        return "true"
    if text in ("false", "off", "no", "0"):
        return "false"
    raise ValueError("must be true/false (or ON/OFF)")


def _whole(value: str) -> str:
    text = value.strip()
    if not re.fullmatch(r"\d+", text):
        raise ValueError("must be a whole number")
    return str(int(text))


def _port(value: str) -> str:
    text = _whole(value)
    if not 1 <= int(text) <= 65535:
        raise ValueError("must be a port number between 1 and 65535")
    return text


#: Session character sets teradatasql speaks. The Teradata JDBC driver's default, ASCII, and the other JDBC
#: charsets (LATIN1_0A, KANJISJIS_0S...) fail in teradatasql (errors 557, 451) although existing JDBC URLs carry
#: them; the session is then UTF8, which reads the same characters (the database converts server-side).
DRIVER_CHARSETS = ("UTF8", "UTF16")


def _charset(value: str) -> str:
    text = value.strip().upper()
    if text in DRIVER_CHARSETS:
        return text
    log.warning("ignoring Teradata connection parameter CHARSET=%s: teradatasql supports UTF8 and UTF16 only; "
                "the session uses UTF8", text[:40])
    return "UTF8"


def _one_of(*options: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        text = value.strip().upper()
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return text
    return check


@dataclass(frozen=True, slots=True)
class Parameter:
    """A connection parameter: its teradatasql name, how its value is checked, whether it is secret."""

    driver_name: str
    convert: Callable[[str], str] = _text
    secret: bool = False


#: Connection-string parameters (JDBC names, matched case-insensitively) and the teradatasql parameters they
#: become. Every name here is accepted by teradatasql 20 (tests/adapters/teradata/test_connect.py asks the real driver).
#: Anything else is rejected: teradatasql fails on unknown names, and another connector's properties must
#: never leak into a Teradata logon (the Java connector's issue #723).
PARAMETERS: dict[str, Parameter] = {
    "account": Parameter("account"),
    "charset": Parameter("charset", _charset),
    "connect_failure_ttl": Parameter("connect_failure_ttl", _whole),
    "connect_timeout": Parameter("connect_timeout", _whole),
    "cop": Parameter("cop", _boolean),
    "coplast": Parameter("coplast", _boolean),
    "database": Parameter("database"),
    "dbs_port": Parameter("dbs_port", _port),
    "encryptdata": Parameter("encryptdata", _boolean),
    "http_proxy": Parameter("http_proxy"),
    "http_proxy_password": Parameter("http_proxy_password", secret=True),
    "http_proxy_user": Parameter("http_proxy_user"),
    "https_port": Parameter("https_port", _port),
    "https_proxy": Parameter("https_proxy"),
    "https_proxy_password": Parameter("https_proxy_password", secret=True),
    "https_proxy_user": Parameter("https_proxy_user"),
    "logdata": Parameter("logdata", secret=True),
    "logmech": Parameter("logmech", _upper),
    "logon_timeout": Parameter("logon_timeout", _whole),
    "max_message_body": Parameter("max_message_body", _whole),
    "oidc_clientid": Parameter("oidc_clientid"),
    "oidc_scope": Parameter("oidc_scope"),
    "oidc_sslmode": Parameter("oidc_sslmode", _upper),
    "oidc_token": Parameter("oidc_token"),
    "password": Parameter("password", secret=True),
    "proxy_bypass_hosts": Parameter("proxy_bypass_hosts"),
    "request_timeout": Parameter("request_timeout", _whole),
    "runstartup": Parameter("runstartup", _boolean),
    "sip_support": Parameter("sip_support", _boolean),
    "sslca": Parameter("sslca"),
    "sslcapath": Parameter("sslcapath"),
    "sslcipher": Parameter("sslcipher"),
    "sslcrc": Parameter("sslcrc", _upper),
    "sslcrl": Parameter("sslcrl", _boolean),
    "sslmode": Parameter("sslmode", _upper),
    "sslocsp": Parameter("sslocsp", _boolean),
    "sslprotocol": Parameter("sslprotocol"),
    "tmode": Parameter("tmode", _one_of("ANSI", "TERA", "DEFAULT")),
    "user": Parameter("user"),
}

_HOST = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9_.\-]+))(?::(?P<port>\d+))?$")


@dataclass(frozen=True)
class TeradataUrl:
    """A parsed ``jdbc:teradata://`` URL: host and teradatasql parameters. Secrets never show in ``repr``."""

    host: str
    parameters: Mapping[str, str] = field(repr=False)
    #: the URL separated parameters with ``&`` (the 2021 blog form) instead of Teradata's commas
    legacy_ampersands: bool = False

    def __repr__(self) -> str:
        shown = {k: ("***" if PARAMETERS[k].secret else v) for k, v in sorted(self.parameters.items())}
        return f"TeradataUrl(host={self.host!r}, parameters={shown})"

    @property
    def secret_values(self) -> tuple[str, ...]:
        return tuple(v for k, v in self.parameters.items() if PARAMETERS[k].secret and v)


def parse_teradata_url(url: str) -> TeradataUrl:
    """``jdbc:teradata://host[:port]/NAME=value,NAME=value,${secret}`` -> host and teradatasql parameters.

    Teradata separates parameters with commas; values may be single-quoted (``''`` for a quote) to hold
    commas. The Trianz blog form ``/user=u&password=p`` is read as intended - ``&`` separates parameters when
    a known parameter name follows it - whereas the Teradata JDBC driver would have made ``u&password=p``
    the user name. ``${secret}`` placeholders (and the separator before them) are removed here; the
    credentials they name are resolved at connect time.
    """
    text = url.strip()
    if not text.lower().startswith(URL_PREFIX):
        raise ConfigurationError(
            "a Teradata connection string looks like teradata://jdbc:teradata://<host>/TMODE=ANSI,"
            "DATABASE=<db>,${<secret>}; the part after teradata:// must start with jdbc:teradata://")
    rest = text[len(URL_PREFIX):]
    host_part, _, parameter_text = rest.partition("/")
    match = _HOST.match(host_part.strip())
    if not match:
        raise ConfigurationError(f"the Teradata host {host_part.strip()[:80]!r} is not a host name, IPv4 or "
                                 f"[IPv6] address (optionally :port)")
    host = match.group("v6") or match.group("name")
    without_secrets = re.sub(r"[,&]?\s*" + SECRET_PLACEHOLDER.pattern, "", parameter_text)
    if "${" in without_secrets:
        raise ConfigurationError("the Teradata connection string has a malformed ${...} secret placeholder; "
                                 "secret names may use letters, digits and /_+=.@!:-")
    pairs, legacy = _split_parameters(without_secrets)
    parameters: dict[str, str] = {}
    previous = ""
    for name, value in pairs:
        key = name.strip().lower()
        spec = PARAMETERS.get(key)
        if spec is None:
            known = ", ".join(n.upper() for n in sorted(PARAMETERS))
            after_secret = previous in PARAMETERS and PARAMETERS[previous].secret
            shown = f"after {previous.upper()} (quote values that contain commas)" if after_secret else repr(
                name.strip()[:60])
            raise ConfigurationError(f"unknown Teradata connection parameter {shown}; known parameters "
                                     f"(case-insensitive): {known}")
        previous = key
        if key in parameters:
            raise ConfigurationError(f"Teradata connection parameter {key.upper()} is given twice")
        try:
            parameters[key] = spec.convert(value)
        except ValueError as e:
            shown = "" if spec.secret else f"={value.strip()[:40]!r}"
            raise ConfigurationError(f"Teradata connection parameter {key.upper()}{shown} {e}") from None
    port = match.group("port")
    if port is not None:
        port = _port(port)
        if parameters.get("dbs_port", port) != port:
            raise ConfigurationError(f"the Teradata port is given twice: {host_part.strip()!r} and "
                                     f"DBS_PORT={parameters['dbs_port']}")
        parameters["dbs_port"] = port
    if legacy:
        log.warning("the Teradata connection string separates parameters with '&'; Teradata uses commas "
                    "(e.g. /USER=u,PASSWORD=p) - read as separate parameters")
    return TeradataUrl(host, parameters, legacy)


_AMPERSAND_PARAMETER = re.compile(r"&\s*(?:" + "|".join(sorted(PARAMETERS, key=len, reverse=True)) + r")\s*=",
                                  re.IGNORECASE)


def _split_parameters(text: str) -> tuple[list[tuple[str, str]], bool]:
    """``A=1,B='x,y'`` -> [(A, 1), (B, x,y)]. Outside quotes, ``&`` also separates when a known parameter
    name follows it (the blog form)."""
    segments: list[str] = []
    current: list[str] = []
    quoted = False
    legacy = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "'" and text[i + 1 : i + 2] == "'":
                current.append("'")
                i += 2
                continue
            if ch == "'":
                quoted = False
            else:
                current.append(ch)
        elif ch == "'" and "".join(current).strip().endswith("=") and "".join(current).count("=") == 1:
            quoted = True
        elif ch == "," or (ch == "&" and _AMPERSAND_PARAMETER.match(text, i)):
            legacy = legacy or ch == "&"
            segments.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if quoted:
        raise ConfigurationError("a quoted Teradata connection parameter value has no closing quote")
    segments.append("".join(current))
    pairs: list[tuple[str, str]] = []
    previous = ""
    for segment in segments:
        if not segment.strip():
            continue
        name, equals, value = segment.partition("=")
        if not equals or not name.strip():
            if previous in PARAMETERS and PARAMETERS[previous].secret:
                raise ConfigurationError(f"the Teradata connection string has text after {previous.upper()} that "
                                         f"is not NAME=value; quote values that contain commas, e.g. "
                                         f"{previous.upper()}='a,b'")
            raise ConfigurationError(f"Teradata connection parameter {segment.strip()[:40]!r} must look like "
                                     f"NAME=value")
        pairs.append((name, value))
        previous = name.strip().lower()
    return pairs, legacy


# ============================================================================================ errors

_ERROR = re.compile(r"\[Error (\d+)\](?:\s*\[SQLState (\w+)\])?\s*(.*)")


def driver_errors(error: BaseException) -> list[tuple[int, str]]:
    """``[(code, text), ...]`` from a teradatasql message, outermost first; stack-trace lines dropped."""
    found: list[tuple[int, str]] = []
    for line in str(error).splitlines():
        match = _ERROR.search(line)
        if match:
            found.append((int(match.group(1)), match.group(3).strip()))
    return found


def root_cause(error: BaseException) -> str:
    """The last ``Caused by`` line that is not itself a driver error (``dial tcp ...: connection refused``)."""
    causes = [line[len("Caused by "):].strip() for line in str(error).splitlines() if line.startswith("Caused by ")]
    plain = [c for c in causes if not _ERROR.search(c)]
    return plain[-1] if plain else ""


__all__ = ["DEFAULT_PORT", "PARAMETERS", "Parameter", "TeradataUrl", "driver_errors", "parse_teradata_url",
           "root_cause"]
