"""``glue_connection``: settings kept in an AWS Glue connection, as Athena's console creates data sources now.

Like the Java SDK's ``EnvironmentProperties.createEnvironment``: the connection's properties give the connection
string, its ``AthenaProperties`` give the connector settings (``spill_bucket``... with ``spill_kms_key_id``
meaning ``kms_key_id``), its authentication secret becomes the ``${secret}`` of the connection string, and the
Lambda's own environment variables win over all of them. Read once per process (the service is built once).

The connection string comes from the connection's ``default`` (or ``connection_string``) property when present,
written as everywhere else (``<engine>://<jdbc-url>``); otherwise from Glue's ``JDBC_CONNECTION_URL`` or the
console's ``HOST``/``PORT``/``DATABASE``/``JDBC_PARAMS`` with the engine named by the connection type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.errors import ConfigurationError

GLUE_CONNECTION = "glue_connection"
#: Glue connection types -> (engine, JDBC URL prefix, database separator, parameters separator, delimiter).
_TYPES: dict[str, tuple[str, str, str, str, str]] = {
    "POSTGRESQL": ("jdbc", "jdbc:postgresql://", "/", "?", "&"),
    "ORACLE": ("oracle", "jdbc:oracle:thin:@//", "/", "?", "&"),
    "SNOWFLAKE": ("snowflake", "jdbc:snowflake://", "/?db=", "&", "&"),
    "TERADATA": ("teradata", "jdbc:teradata://", "/DATABASE=", ",", ","),
}


def with_glue_connection(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` completed from the Glue connection it names (unchanged when it names none)."""
    name = (env.get(GLUE_CONNECTION) or "").strip()
    if not name:
        return dict(env)
    connection = _get_connection(name, env)
    properties = {str(k): str(v) for k, v in (connection.get("ConnectionProperties") or {}).items()}
    secret = _secret_name((connection.get("AuthenticationConfiguration") or {}).get("SecretArn"))
    merged: dict[str, str] = {GLUE_CONNECTION: name}
    merged["default"] = _connection_string(name, str(connection.get("ConnectionType") or ""), properties, secret)
    for key, value in (connection.get("AthenaProperties") or {}).items():
        merged["kms_key_id" if key == "spill_kms_key_id" else str(key)] = str(value)
    merged.update(env)  # the Lambda's own variables win, as in Java
    return merged


def _get_connection(name: str, env: Mapping[str, str]) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    from connector import aws

    endpoint = (env.get("GLUE_ENDPOINT") or "").strip()  # the Java SDK's override; AWS_ENDPOINT_URL_GLUE works too
    try:
        client = aws.client("glue") if not endpoint else _client_at(endpoint)
        connection: dict[str, Any] = client.get_connection(Name=name, HidePassword=True)["Connection"]
        return connection
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "ClientError")
        raise ConfigurationError(f"glue_connection {name!r} cannot be read from AWS Glue ({code})") from None
    except BotoCoreError as e:
        raise ConfigurationError(f"glue_connection {name!r} cannot be read from AWS Glue "
                                 f"({type(e).__name__})") from None


def _client_at(endpoint: str) -> Any:
    import boto3

    return boto3.session.Session().client("glue", endpoint_url=endpoint)


def _secret_name(arn: Any) -> str | None:
    """``arn:...:secret:name-AbCdEf`` -> ``name`` (Secrets Manager appends six random characters)."""
    if not isinstance(arn, str) or not arn.strip():
        return None
    last = arn.rsplit(":", 1)[-1]
    return last.rsplit("-", 1)[0] if "-" in last else last


def _connection_string(name: str, kind: str, properties: Mapping[str, str], secret: str | None) -> str:
    for key in ("default", "connection_string"):
        if properties.get(key, "").strip():
            return properties[key].strip()
    engine_info = _TYPES.get(kind.upper())
    url = properties.get("JDBC_CONNECTION_URL", "").strip()
    if url:
        engine = engine_info[0] if engine_info else "jdbc"
        delimiter = engine_info[4] if engine_info else "&"
        separator = "?" if "?" not in url and delimiter == "&" else delimiter
        return f"{engine}://{url}{separator + '${' + secret + '}' if secret else ''}"
    if engine_info is None or not properties.get("HOST"):
        raise ConfigurationError(f"glue_connection {name!r} (type {kind or 'unknown'}) has no default or "
                                 f"JDBC_CONNECTION_URL property, and no HOST of a connection type this connector "
                                 f"builds URLs for ({', '.join(sorted(_TYPES))})")
    engine, prefix, database_separator, parameters_separator, delimiter = engine_info
    port = f":{properties['PORT']}" if properties.get("PORT") else ""
    database = f"{database_separator}{properties['DATABASE']}" if properties.get("DATABASE") else ""
    parameters = [p for p in (properties.get("JDBC_PARAMS", ""), "${" + secret + "}" if secret else "") if p]
    tail = parameters_separator + delimiter.join(parameters) if parameters else ""
    return f"{engine}://{prefix}{properties['HOST']}{port}{database}{tail}"
