"""fakesnow's HTTP server with the parts of Snowflake's REST API that the tests need and fakesnow lacks.

Runs inside fakesnow's own venv (``.venv-fakesnow``, see ``tests/servers/fakesnow.py``), never in the project's.
fakesnow emulates Snowflake's SQL on DuckDB; this wrapper adds what a real account does around it:

* login replies carry ``masterToken``, ``validityInSeconds``, ``masterValidityInSeconds`` and ``sessionId``
  (snowflake-connector-python 5.x refuses a login reply without them);
* credentials are checked when a users file is given: passwords, and key-pair JWTs verified like Snowflake
  does (RS256 signature with the user's registered public key, ``iss`` = ``ACCOUNT.USER.SHA256:<fingerprint>``,
  ``sub`` = ``ACCOUNT.USER``, not expired). Failures answer with Snowflake's error codes (390100, 390144);
* results larger than ``--chunk-rows`` are cut into chunks like Snowflake's: the first inline
  (``rowsetBase64``, schema only), the rest served from ``/chunks/...`` URLs that require the ``chunkHeaders`` (as S3
  requires the SSE-C key headers on a real account);
* result chunks carry a real server's encoding (``tests/servers/snowflake_wire.py``): NUMBER as scaled integers
  of the narrowest width, TIMESTAMP_TZ structs with their ``byteLength`` - fakesnow's decimal128 would hide the
  driver's float conversion of scaled numbers;
* FIXED bindings with a fraction (how the connector binds ``Decimal``) are read as decimals;
* a bind parameter as a LIMIT or OFFSET row count is rejected ("Invalid row count '?'"), as Snowflake does;
* ``GET /queries/<id>/result`` returns a finished query's result again, to the user who ran it only;
* parameters set on a user (``"parameters"`` in the users file, as ``ALTER USER ... SET`` does) apply to its
  sessions unless the login's session parameters override them, as on Snowflake: ``ROWS_PER_RESULTSET`` cuts
  results short without an error, ``DEFAULT_NULL_ORDERING=FIRST`` puts NULLs first where no NULLS clause is
  written; the login reply lists the session's parameters, as Snowflake's does (the driver reports them);
* a user's ``"session_queries"`` bounds how many statements a session runs before its tokens expire (as a master
  token does after 4 hours): the login reply then announces a master token validity of 0 s, which the driver
  reports through ``is_expired()``, and the server answers later statements with 390114 "Authentication token has
  expired".

Usage: ``python -P fakesnow_app.py --port-file F [--users users.json] [--chunk-rows N]``; it binds a free
loopback port itself and writes the port number to ``F`` once it listens.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import importlib.util
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import fakesnow.server as fs
import pyarrow as pa
import pyarrow.compute as pc
import uvicorn
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CHUNK_KEY_HEADER = "x-amz-server-side-encryption-customer-key"


def _load_wire() -> Any:
    # The app runs with -P (no script directory on sys.path), so its sibling is loaded by path.
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "snowflake_wire.py")
    spec = importlib.util.spec_from_file_location("snowflake_wire", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wire = _load_wire()


def _from_binding(binding: dict[str, str]) -> Any:
    """fakesnow reads FIXED bindings with int(); Snowflake also takes decimals ("12.34") as FIXED."""
    if binding.get("type") == "FIXED" and not str(binding.get("value", "")).lstrip("-").isdigit():
        return Decimal(binding["value"])
    return _fakesnow_from_binding(binding)


_fakesnow_from_binding = fs.from_binding
fs.from_binding = _from_binding  # type: ignore[assignment]


@dataclass
class Session:
    user: str
    parameters: dict[str, Any]
    queries_left: int | None = None  # statements before the session's tokens expire (None: never)


@dataclass
class State:
    users: dict[str, dict[str, Any]] | None = None
    chunk_rows: int = 0
    sessions: dict[str, Session] = field(default_factory=dict)  # session token -> session
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # query id -> {"user", "data"}
    chunks: dict[tuple[str, int], tuple[bytes, str]] = field(default_factory=dict)  # -> (ipc bytes, key)
    lock: threading.Lock = field(default_factory=threading.Lock)


state = State()


def _error(code: str, message: str, status: int = 200) -> JSONResponse:
    return JSONResponse({"data": {"errorCode": code}, "code": code, "message": message, "success": False},
                        status_code=status)


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _fingerprint(public_pem: str) -> str:
    key = serialization.load_pem_public_key(public_pem.encode())
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def _check_jwt(token: str, account: str, user: str, public_pem: str) -> str | None:
    """None when the JWT is valid for this user, else the reason it is not."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_b64url(header_b64))
        payload = json.loads(_b64url(payload_b64))
        if header.get("alg") != "RS256":
            return f"unexpected alg {header.get('alg')}"
        key = serialization.load_pem_public_key(public_pem.encode())
        key.verify(_b64url(signature_b64), f"{header_b64}.{payload_b64}".encode(),  # type: ignore[union-attr]
                   padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]
    except Exception as e:
        return f"bad token: {type(e).__name__}"
    qualified = f"{account.upper()}.{user.upper()}"
    if payload.get("sub") != qualified:
        return f"sub {payload.get('sub')!r} != {qualified!r}"
    if payload.get("iss") != f"{qualified}.{_fingerprint(public_pem)}":
        return "iss does not name the registered public key"
    if int(payload.get("exp", 0)) < time.time():
        return "expired"
    return None


def _body(raw: bytes, encoding: str | None) -> dict[str, Any]:
    return json.loads(gzip.decompress(raw) if encoding == "gzip" else raw)


async def login(request: Request) -> Response:
    data = _body(await request.body(), request.headers.get("Content-Encoding"))["data"]
    user = str(data.get("LOGIN_NAME") or "")
    if state.users is not None:
        entry = state.users.get(user.lower())
        authenticator = str(data.get("AUTHENTICATOR") or "SNOWFLAKE").upper()
        if entry is None:
            return _error("390100", "Incorrect username or password was specified.")
        if authenticator == "SNOWFLAKE_JWT":
            if "public_key" not in entry:
                return _error("390144", "JWT token is invalid.")
            reason = _check_jwt(str(data.get("TOKEN") or ""), str(data.get("ACCOUNT_NAME") or ""), user,
                                entry["public_key"])
            if reason is not None:
                print(f"JWT rejected for {user}: {reason}", file=sys.stderr, flush=True)
                return _error("390144", "JWT token is invalid.")
        elif entry.get("password") is None or data.get("PASSWORD") != entry["password"]:
            return _error("390100", "Incorrect username or password was specified.")
    response = await fs.login_request(request)
    payload = json.loads(bytes(response.body))
    if payload.get("success"):
        entry = (state.users or {}).get(user.lower(), {})
        asked = {str(k).upper(): v for k, v in (data.get("SESSION_PARAMETERS") or {}).items()}
        parameters = {**{k.upper(): v for k, v in entry.get("parameters", {}).items()}, **asked}
        queries = entry.get("session_queries")
        payload["data"].update(masterToken=secrets.token_urlsafe(24), validityInSeconds=3600,
                               masterValidityInSeconds=0 if queries is not None else 14400,
                               sessionId=secrets.randbelow(1 << 40))
        token = payload["data"]["token"]
        listed = {p["name"]: p for p in payload["data"].get("parameters", [])}
        listed.update({k: {"name": k, "value": v} for k, v in parameters.items()})
        payload["data"]["parameters"] = list(listed.values())
        if str(parameters.get("DEFAULT_NULL_ORDERING", "LAST")).upper() == "FIRST":
            fs.sessions[token]._duck_conn.execute("SET SESSION default_null_order = 'nulls_first'")
        with state.lock:
            state.sessions[token] = Session(user.lower(), parameters, queries)
    return JSONResponse(payload, status_code=response.status_code)


def _token(request: Request) -> str:
    return (request.headers.get("Authorization") or "")[17:-1]


def _chunked(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """Cut an Arrow result into an inline first chunk and remote chunks, like Snowflake does.

    The inline part of a chunked result holds the schema and no rows, as a real server may send it: the 5.x
    driver then lists a result batch of 0 rows whose ``to_arrow()`` is None (a reader must skip it)."""
    raw = data.get("rowsetBase64")
    if data.get("queryResultFormat") != "arrow" or not raw:
        return data
    # Each chunk is encoded from its own values, as a server writes chunks independently: the integer width of a
    # NUMBER column may differ between the chunks of one result (so a reader must decode each with its own schema).
    table = _valid_structs(pa.ipc.open_stream(base64.b64decode(raw)).read_all())
    if state.chunk_rows <= 0 or table.num_rows <= state.chunk_rows:
        return {**data, "rowsetBase64": base64.b64encode(_ipc(table)).decode()}
    slices = [table.slice(0, 0), *(table.slice(i, state.chunk_rows) for i in range(0, table.num_rows,
                                                                                  state.chunk_rows))]
    ipc = _ipc

    query_id = data["queryId"]
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    base = f"{request.url.scheme}://{request.url.netloc}"
    chunks = []
    for n, part in enumerate(slices[1:], 1):
        body = ipc(part)
        with state.lock:
            state.chunks[(query_id, n)] = (body, key)
        chunks.append({"url": f"{base}/chunks/{query_id}/{n}", "rowCount": part.num_rows,
                       "uncompressedSize": len(body), "compressedSize": len(body)})
    return {**data, "rowsetBase64": base64.b64encode(ipc(slices[0])).decode(), "chunks": chunks,
            "chunkHeaders": {"x-amz-server-side-encryption-customer-algorithm": "AES256", CHUNK_KEY_HEADER: key}}


def _ipc(part: pa.Table) -> bytes:
    return bytes(wire.ipc_bytes(wire.encode(part)))


def _valid_structs(table: pa.Table) -> pa.Table:
    """fakesnow leaves NULLs inside the non-nullable fields of its timestamp structs under NULL rows; the
    connector's chunk decoder (rightly) rejects that, so put zeros there as Snowflake does."""
    columns = []
    for original in table.columns:
        column = original
        if pa.types.is_struct(original.type):
            combined = original.combine_chunks()
            children = [combined.field(i).fill_null(0) if not combined.type.field(i).nullable else combined.field(i)
                        for i in range(combined.type.num_fields)]
            # fakesnow marks a NULL timestamp by NULL fields, not by a NULL struct: move it to the struct.
            mask = pc.or_(combined.is_null(), combined.field(0).is_null())
            column = pa.StructArray.from_arrays(children, fields=list(combined.type), mask=mask)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema)


def _spend_query(token: str) -> Session | None:
    """The session of a statement, counting it against the session's token lifetime; None once expired."""
    with state.lock:
        session = state.sessions.get(token)
        if session is None or session.queries_left is None:
            return session
        if session.queries_left <= 0:
            return None
        session.queries_left -= 1
        return session


def _rows_per_resultset(data: dict[str, Any], limit: int) -> dict[str, Any]:
    """Snowflake's ROWS_PER_RESULTSET: the result is cut to ``limit`` rows, and nothing says so."""
    raw = data.get("rowsetBase64")
    if limit <= 0 or data.get("queryResultFormat") != "arrow" or not raw:
        return data
    table = pa.ipc.open_stream(base64.b64decode(raw)).read_all()
    if table.num_rows <= limit:
        return data
    return {**data, "rowsetBase64": base64.b64encode(fs.to_ipc(table.slice(0, limit))).decode(), "total": limit,
            "returned": limit}


async def query(request: Request) -> Response:
    session = _spend_query(_token(request))
    if session is None and _token(request) in state.sessions:
        return _error("390114", "Authentication token has expired.  The user must authenticate again.")
    sql = str(_body(await request.body(), request.headers.get("Content-Encoding")).get("sqlText", ""))
    bound = re.search(r"\b(LIMIT|OFFSET)\s+(\?|:\w+)", sql, re.IGNORECASE)
    if bound:  # Snowflake wants a constant row count there, not a bind parameter
        return _error("001003", f"SQL compilation error:\nInvalid row count '{bound.group(2)}' in "
                                f"{bound.group(1).lower()} clause")
    response = await fs.query_request(request)
    payload = json.loads(bytes(response.body))
    data = payload.get("data")
    if payload.get("success") and isinstance(data, dict) and data.get("queryId"):
        limit = int((session.parameters if session else {}).get("ROWS_PER_RESULTSET") or 0)
        data = _chunked(request, _rows_per_resultset(data, limit))
        payload["data"] = data
        with state.lock:
            state.results[data["queryId"]] = {"user": session.user if session else None, "data": data}
    return JSONResponse(payload, status_code=response.status_code)


async def query_result(request: Request) -> Response:
    with state.lock:
        session = state.sessions.get(_token(request))
        user = session.user if session else None
        result = state.results.get(request.path_params["query_id"])
    if user is None:
        return _error("390104", "User must login again to access the service.", 401)
    if result is None or result["user"] != user:
        return _error("000709", f"Statement {request.path_params['query_id']} not found")
    return JSONResponse({"data": result["data"], "code": None, "message": None, "success": True})


async def chunk(request: Request) -> Response:
    with state.lock:
        found = state.chunks.get((request.path_params["query_id"], int(request.path_params["n"])))
    if found is None:
        return Response(status_code=404)
    body, key = found
    if request.headers.get(CHUNK_KEY_HEADER) != key:
        return Response(status_code=403)
    return Response(body, media_type="application/octet-stream")


async def telemetry(request: Request) -> Response:
    return JSONResponse({"success": True, "data": None})


replaced = {"/session/v1/login-request", "/queries/v1/query-request"}
routes = [
    Route("/session/v1/login-request", login, methods=["POST"]),
    Route("/queries/v1/query-request", query, methods=["POST"]),
    Route("/queries/{query_id}/result", query_result, methods=["GET"]),
    Route("/chunks/{query_id}/{n:int}", chunk, methods=["GET"]),
    Route("/telemetry/send", telemetry, methods=["POST"]),
    *[r for r in fs.routes if getattr(r, "path", None) not in replaced],
]
app = Starlette(routes=routes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--users", help="JSON {user: {password?, public_key? (PEM), parameters?, session_queries?}}; "
                                        "omitted = accept anyone")
    parser.add_argument("--chunk-rows", type=int, default=0)
    args = parser.parse_args()
    if args.users:
        with open(args.users) as f:
            state.users = {k.lower(): v for k, v in json.load(f).items()}
    state.chunk_rows = args.chunk_rows
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, fd=sock.fileno(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while thread.is_alive() and not server.started:
        time.sleep(0.02)
    if not server.started:
        raise SystemExit("fakesnow server failed to start")
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(sock.getsockname()[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    thread.join()


if __name__ == "__main__":
    main()
