"""fakesnow's HTTP server with the parts of Snowflake's REST API that the tests need and fakesnow lacks.

Runs inside fakesnow's own venv (``.venv-fakesnow``, see ``tests/servers/fakesnow.py``), never in the project's.
fakesnow emulates Snowflake's SQL on DuckDB; this wrapper adds what a real account does around it:

* login replies carry ``masterToken``, ``validityInSeconds``, ``masterValidityInSeconds`` and ``sessionId``
  (snowflake-connector-python 5.x refuses a login reply without them);
* credentials are checked when a users file is given: passwords, and key-pair JWTs verified like Snowflake
  does (RS256 signature with the user's registered public key, ``iss`` = ``ACCOUNT.USER.SHA256:<fingerprint>``,
  ``sub`` = ``ACCOUNT.USER``, not expired). Failures answer with Snowflake's error codes (390100, 390144);
* results larger than ``--chunk-rows`` are cut into chunks like Snowflake's: the first inline
  (``rowsetBase64``), the rest served from ``/chunks/...`` URLs that require the ``chunkHeaders`` (as S3
  requires the SSE-C key headers on a real account);
* FIXED bindings with a fraction (how the connector binds ``Decimal``) are read as decimals;
* ``GET /queries/<id>/result`` returns a finished query's result again, to the user who ran it only.

Usage: ``python -P fakesnow_app.py --port-file F [--users users.json] [--chunk-rows N]``; it binds a free
loopback port itself and writes the port number to ``F`` once it listens.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import os
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


def _from_binding(binding: dict[str, str]) -> Any:
    """fakesnow reads FIXED bindings with int(); Snowflake also takes decimals ("12.34") as FIXED."""
    if binding.get("type") == "FIXED" and not str(binding.get("value", "")).lstrip("-").isdigit():
        return Decimal(binding["value"])
    return _fakesnow_from_binding(binding)


_fakesnow_from_binding = fs.from_binding
fs.from_binding = _from_binding  # type: ignore[assignment]


@dataclass
class State:
    users: dict[str, dict[str, str]] | None = None
    chunk_rows: int = 0
    sessions: dict[str, str] = field(default_factory=dict)  # session token -> user
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
        payload["data"].update(masterToken=secrets.token_urlsafe(24), validityInSeconds=3600,
                               masterValidityInSeconds=14400, sessionId=secrets.randbelow(1 << 40))
        with state.lock:
            state.sessions[payload["data"]["token"]] = user.lower()
    return JSONResponse(payload, status_code=response.status_code)


def _token(request: Request) -> str:
    return (request.headers.get("Authorization") or "")[17:-1]


def _chunked(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """Cut an Arrow result into an inline first chunk and remote chunks, like Snowflake does."""
    raw = data.get("rowsetBase64")
    if data.get("queryResultFormat") != "arrow" or not raw:
        return data
    table = pa.ipc.open_stream(base64.b64decode(raw)).read_all()
    if state.chunk_rows <= 0 or table.num_rows <= state.chunk_rows:
        return {**data, "rowsetBase64": base64.b64encode(_ipc(table)).decode()}
    slices = [table.slice(i, state.chunk_rows) for i in range(0, table.num_rows, state.chunk_rows)]
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
    part = _valid_structs(part)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, part.schema) as writer:
        writer.write_table(part)
    return bytes(sink.getvalue())


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


async def query(request: Request) -> Response:
    response = await fs.query_request(request)
    payload = json.loads(bytes(response.body))
    data = payload.get("data")
    if payload.get("success") and isinstance(data, dict) and data.get("queryId"):
        data = _chunked(request, data)
        payload["data"] = data
        with state.lock:
            state.results[data["queryId"]] = {"user": state.sessions.get(_token(request)), "data": data}
    return JSONResponse(payload, status_code=response.status_code)


async def query_result(request: Request) -> Response:
    with state.lock:
        user = state.sessions.get(_token(request))
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
    parser.add_argument("--users", help="JSON {user: {password?, public_key? (PEM)}}; omitted = accept anyone")
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
