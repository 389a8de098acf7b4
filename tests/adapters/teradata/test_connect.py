"""Teradata connection strings: every documented form, clear errors, secrets, and what teradatasql accepts."""

from __future__ import annotations

import json
import logging
import socket
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.teradata.adapter import TeradataAdapter
from adapters.teradata.connect import PARAMETERS, driver_errors, parse_teradata_url
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.errors import ConfigurationError, SecretError


def adapter_for(connection_string: str) -> TeradataAdapter:
    return TeradataAdapter(parse_connection_string(connection_string), Settings())


def test_the_glue_and_readme_form_with_a_secret() -> None:
    spec = parse_connection_string("teradata://jdbc:teradata://td.example.com/TMODE=ANSI,CHARSET=UTF8,"
                                   "DATABASE=sales,DBS_PORT=1025,${Test/Teradata}")
    url = parse_teradata_url(spec.url)
    assert spec.engine == "teradata" and spec.secret_name == "Test/Teradata"
    assert url.host == "td.example.com"
    assert url.parameters == {"tmode": "ANSI", "charset": "UTF8", "database": "sales", "dbs_port": "1025"}


def test_parameter_names_are_case_insensitive_and_values_normalised() -> None:
    url = parse_teradata_url("jdbc:teradata://h/tmode=ansi,Database=Sales,Encryptdata=ON,cop=off,LogMech=ldap")
    assert url.parameters == {"tmode": "ANSI", "database": "Sales", "encryptdata": "true", "cop": "false",
                              "logmech": "LDAP"}


def test_inline_user_and_password() -> None:
    url = parse_teradata_url("jdbc:teradata://10.1.2.3/DATABASE=db,USER=athena,PASSWORD=pw&rd")
    assert url.parameters == {"database": "db", "user": "athena", "password": "pw&rd"}
    assert url.secret_values == ("pw&rd",)


@pytest.mark.parametrize("tail", ["PASSWORD=s3cr,et=x", "PASSWORD=s3cr,et"])
def test_an_unquoted_comma_in_a_password_is_an_error_that_does_not_echo_it(tail: str) -> None:
    with pytest.raises(ConfigurationError, match="after PASSWORD") as bad:
        parse_teradata_url(f"jdbc:teradata://h/USER=u,{tail}")
    assert "s3cr" not in str(bad.value) and "'et'" not in str(bad.value)


def test_quoted_values_hold_commas_and_quotes() -> None:
    url = parse_teradata_url("jdbc:teradata://h/USER=athena,PASSWORD='p,a''ss&user=x',DATABASE=db")
    assert url.parameters == {"user": "athena", "password": "p,a'ss&user=x", "database": "db"}


def test_the_trianz_blog_form_is_read_as_intended(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="afq.teradata"):
        url = parse_teradata_url("jdbc:teradata://hostname/user=testUser&password=testPassword")
    # terajdbc would have taken "testUser&password=testPassword" as the user name and sent no password.
    assert url.parameters == {"user": "testUser", "password": "testPassword"} and url.legacy_ampersands
    assert "commas" in caplog.text and "testPassword" not in caplog.text


def test_glue_connection_strings_with_params_and_an_ampersand_before_the_secret() -> None:
    url = parse_teradata_url("jdbc:teradata://h/TMODE=ANSI,CHARSET=UTF8,DATABASE=d,DBS_PORT=1025,"
                             "ENCRYPTDATA=ON&${my-secret}")
    assert url.parameters == {"tmode": "ANSI", "charset": "UTF8", "database": "d", "dbs_port": "1025",
                              "encryptdata": "true"}
    assert parse_teradata_url("jdbc:teradata://h/${s},DATABASE=d").parameters == {"database": "d"}


def test_host_forms_and_port_in_the_url() -> None:
    assert parse_teradata_url("jdbc:teradata://h").host == "h"
    assert parse_teradata_url("jdbc:teradata://h/").parameters == {}
    url = parse_teradata_url("jdbc:teradata://h.example.com:1030/DATABASE=d")
    assert (url.host, url.parameters["dbs_port"]) == ("h.example.com", "1030")
    assert parse_teradata_url("jdbc:teradata://[fd00::1]:1025/").host == "fd00::1"
    with pytest.raises(ConfigurationError, match="port is given twice"):
        parse_teradata_url("jdbc:teradata://h:1030/DBS_PORT=1025")


@pytest.mark.parametrize(("url", "message"), [
    ("jdbc:teradata://h/databaseTerm=SCHEMA", r"unknown Teradata connection parameter 'databaseTerm'; known "
                                              r"parameters \(case-insensitive\): ACCOUNT, CHARSET"),
    ("jdbc:teradata://h/TMODE=ANSI,tmode=TERA", "TMODE is given twice"),
    ("jdbc:teradata://h/DBS_PORT=abc", "DBS_PORT='abc' must be a whole number"),
    ("jdbc:teradata://h/DBS_PORT=70000", "between 1 and 65535"),
    ("jdbc:teradata://h/TMODE=FAST", "TMODE='FAST' must be one of ANSI, TERA, DEFAULT"),
    ("jdbc:teradata://h/ENCRYPTDATA=maybe", "ENCRYPTDATA='maybe' must be true/false"),
    ("jdbc:teradata://h/DATABASE", "'DATABASE' must look like NAME=value"),
    ("jdbc:teradata://h/PASSWORD='open", "no closing quote"),
    ("jdbc:teradata://h/${bad name}", "malformed"),
    ("jdbc:teradata://bad host/", "is not a host name"),
    ("jdbc:oracle:thin:@//h:1521/x", "must start with jdbc:teradata://"),
    ("teradata://h/DATABASE=d", "must start with jdbc:teradata://"),
])
def test_bad_connection_strings_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_teradata_url(url)


def test_secret_values_never_show() -> None:
    url = parse_teradata_url("jdbc:teradata://h/USER=u,PASSWORD=Hunter2Hunter2,LOGDATA=tok3n")
    assert "Hunter2" not in repr(url) and "tok3n" not in repr(url)
    assert set(url.secret_values) == {"Hunter2Hunter2", "tok3n"}
    with pytest.raises(ConfigurationError) as bad:
        parse_teradata_url("jdbc:teradata://h/PASSWORD=Hunter2Hunter2,NOPE=1")
    assert "Hunter2" not in str(bad.value)
    spec = parse_connection_string("teradata://jdbc:teradata://h/USER=u,PASSWORD=Hunter2Hunter2")
    assert "Hunter2" not in spec.redacted() and "Hunter2" not in repr(spec)


# ------------------------------------------------------------------------------------------ parser property

NAME_CASES = st.sampled_from(sorted(PARAMETERS)).flatmap(
    lambda n: st.sampled_from([n, n.upper(), n.title()]))
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)


def _render(name: str, value: str) -> str:
    needs_quotes = any(ch in value for ch in ",'&") or value != value.strip() or value.startswith("'")
    return f"{name}='{value.replace(chr(39), chr(39) * 2)}'" if needs_quotes else f"{name}={value}"


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["account", "database", "logdata", "password", "user", "sslca",
                                        "oidc_scope"]), TEXT, max_size=5),
       st.sampled_from(["", ",${a/secret}", "&${a/secret}"]))
def test_free_text_values_round_trip(values: dict[str, str], secret: str) -> None:
    parameters = ",".join(_render(n.upper() if i % 2 else n, v) for i, (n, v) in enumerate(values.items()))
    url = parse_teradata_url(f"jdbc:teradata://db.example.com/{parameters}{secret if parameters else ''}")
    assert dict(url.parameters) == values


@settings(max_examples=100, deadline=None)
@given(st.lists(NAME_CASES, unique_by=str.lower, max_size=6))
def test_every_known_name_in_any_case_is_accepted(names: list[str]) -> None:
    samples = {"dbs_port": "1025", "https_port": "443", "tmode": "TERA"}

    def sample(name: str) -> str:
        return samples.get(name, "true" if PARAMETERS[name].convert.__name__ == "_boolean" else "5")

    text = ",".join(f"{n}={sample(n.lower())}" for n in names)
    url = parse_teradata_url(f"jdbc:teradata://h/{text}")
    assert set(url.parameters) == {n.lower() for n in names}


# ------------------------------------------------------------------------------------------ the real driver


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sample(name: str) -> str:
    spec = PARAMETERS[name]
    return {"_boolean": "false", "_whole": "1", "_port": "1025"}.get(spec.convert.__name__) or {
        "tmode": "ANSI", "charset": "UTF8", "logmech": "TD2", "sslmode": "DISABLE", "oidc_sslmode": "ALLOW",
        "sslcrc": "ALLOW", "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
    }.get(name, "x")


@pytest.mark.timeout(120)
def test_teradatasql_accepts_every_parameter_name_we_pass() -> None:
    """Asks the real driver: an unknown name fails its parameter parsing (error 169) before any connect;
    every name we map to must get as far as connecting (error 444 on a closed port)."""
    teradatasql = pytest.importorskip("teradatasql")
    port = _closed_port()
    for name, spec in PARAMETERS.items():
        kwargs = {"host": "127.0.0.1", "dbs_port": str(port), "sslmode": "DISABLE", "cop": "false"}
        if name not in ("dbs_port", "host"):
            kwargs[spec.driver_name] = _sample(name)
        with pytest.raises(teradatasql.Error) as failure:
            teradatasql.connect(None, **kwargs).close()
        codes = [code for code, _ in driver_errors(failure.value)]
        assert "unknown field" not in str(failure.value), name
        assert codes and codes[0] != 169, (name, str(failure.value).splitlines()[0])
    with pytest.raises(teradatasql.Error, match='unknown field "databaseterm"'):
        teradatasql.connect(None, host="127.0.0.1", dbs_port=str(port), databaseterm="SCHEMA")


# ------------------------------------------------------------------------------------------ credentials


def test_inline_credentials_are_passed_to_the_driver() -> None:
    adapter = adapter_for("teradata://jdbc:teradata://h/DATABASE=d,USER=athena,PASSWORD=pw")
    assert adapter.connect_parameters() == {"host": "h", "database": "d", "user": "athena", "password": "pw"}


def test_secret_credentials_come_from_secrets_manager(aws_env: str) -> None:
    import boto3

    name = f"teradata/{uuid.uuid4().hex}"
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(
        {"Username": "athena", "PASSWORD": "from-the-secret", "host": "ignored"}))
    adapter = adapter_for(f"teradata://jdbc:teradata://h/TMODE=ANSI,${{{name}}}")
    assert adapter.connect_parameters() == {"host": "h", "tmode": "ANSI", "user": "athena",
                                            "password": "from-the-secret"}


def test_secret_and_inline_credentials_together_are_an_error(aws_env: str) -> None:
    import boto3

    name = f"teradata/{uuid.uuid4().hex}"
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(
        {"username": "athena", "password": "pw-in-secret"}))
    adapter = adapter_for(f"teradata://jdbc:teradata://h/USER=other,${{{name}}}")
    with pytest.raises(ConfigurationError, match="sets USER inline and also names secret"):
        adapter.connect_parameters()


def test_secret_without_a_password_or_missing_secret_is_a_clear_error(aws_env: str) -> None:
    import boto3

    name = f"teradata/{uuid.uuid4().hex}"
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps({"username": "athena"}))
    with pytest.raises(SecretError, match="must hold both username and password"):
        adapter_for(f"teradata://jdbc:teradata://h/${{{name}}}").connect_parameters()
    with pytest.raises(SecretError, match="cannot read secret 'teradata/does-not-exist'"):
        adapter_for("teradata://jdbc:teradata://h/${teradata/does-not-exist}").connect_parameters()


def test_split_count_setting_is_checked() -> None:
    spec = parse_connection_string("teradata://jdbc:teradata://h/")
    assert TeradataAdapter(spec, Settings(env={"teradata_split_count": "16"})).split_count == 16
    with pytest.raises(ConfigurationError, match="teradata_split_count='0' must be a whole number from 1"):
        TeradataAdapter(spec, Settings(env={"teradata_split_count": "0"}))
