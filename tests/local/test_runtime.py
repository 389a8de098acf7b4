"""The handler run for real by ``awslambdaric`` against the local Lambda Runtime API, and the deployed-function
target through boto3's real ``lambda:Invoke`` (against a loopback Invoke endpoint)."""

from __future__ import annotations

import http.client
import json
import queue
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import ATHENA_CONNECTOR_EXCEPTION
from connector.local.engine import LocalAthena
from connector.local.errors import InvokeError, LambdaFunctionError, ProtocolViolation
from connector.local.runtime_api import API, Invocation, RuntimeTarget, _Endpoint
from connector.local.targets import FunctionTarget, InProcessTarget
from connector.protocol import Identity, PingRequest

HANDLERS = "tests.local.test_broken_handlers"
JOIN = ("SELECT c.region, count(*) AS n, sum(o.amount) AS total FROM demo.main.orders o JOIN demo.main.customers c "
        "ON c.id = o.customer_id WHERE o.amount > 900 AND c.vip GROUP BY c.region ORDER BY c.region")


@pytest.fixture
def demo(lambda_env: Callable[..., None], demo_db: Path) -> Path:
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}", sqlite_rows_per_split="1000")
    return demo_db


def test_awslambdaric_runs_the_handler_for_a_query(demo: Path, runtime_target: Callable[..., RuntimeTarget]) -> None:
    target = runtime_target(workers=2)
    result = LocalAthena(target).run(JOIN)
    expected = LocalAthena(InProcessTarget()).run(JOIN)
    assert result.table.to_pylist() == expected.table.to_pylist()
    assert result.table.num_rows == 3
    assert sum(len(s.results) for s in result.scans) == 6  # five splits of orders, one of customers
    assert all(w.process.poll() is None for w in target.workers)


def test_function_errors_come_back_as_lambda_reports_them(demo: Path,
                                                          runtime_target: Callable[..., RuntimeTarget]) -> None:
    target = runtime_target()
    with pytest.raises(LambdaFunctionError) as error:
        LocalAthena(target).run("SELECT * FROM demo.main.nope")
    assert error.value.error_type == ATHENA_CONNECTOR_EXCEPTION  # Java's name, as Athena sees it
    assert "main.nope" in error.value.message and error.value.request_type == "GetTableRequest"
    assert LocalAthena(target).run("SELECT count(*) AS n FROM demo.main.customers").table.to_pylist() == [{"n": 500}]


def test_a_crashing_handler_fails_its_invocation(demo: Path, runtime_target: Callable[..., RuntimeTarget]) -> None:
    target = runtime_target(f"{HANDLERS}.crash")
    with pytest.raises(LambdaFunctionError) as error:
        LocalAthena(target).run("SELECT count(*) FROM demo.main.customers")
    assert error.value.error_type == "Runtime.ExitError"
    assert "exited with code 3" in error.value.message


def test_a_handler_that_cannot_be_imported(demo: Path, runtime_target: Callable[..., RuntimeTarget]) -> None:
    target = runtime_target("tests.no_such_module.handler")
    with pytest.raises(LambdaFunctionError) as error:
        target.invoke(PingRequest(Identity(), "demo", "q").to_wire())
    assert "Unable to import module 'tests.no_such_module'" in error.value.message


def test_responses_over_the_lambda_limit_fail(demo: Path, runtime_target: Callable[..., RuntimeTarget]) -> None:
    target = runtime_target(f"{HANDLERS}.huge_ping")
    with pytest.raises(LambdaFunctionError) as error:
        target.invoke(PingRequest(Identity(), "demo", "q").to_wire())
    assert error.value.error_type == "Function.ResponseSizeTooLarge"


def test_every_runtime_api_reply_has_a_content_type() -> None:
    pending: queue.Queue[Invocation] = queue.Queue()
    endpoint = _Endpoint(pending, 60)
    thread = threading.Thread(target=endpoint.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        host, port = endpoint.server_address[:2]

        def call(method: str, path: str, body: bytes = b"") -> http.client.HTTPResponse:
            connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
            connection.request(method, path, body)
            response = connection.getresponse()
            response.read()
            connection.close()
            return response

        invocation = Invocation(b'{"@type":"PingRequest"}', "PingRequest")
        pending.put(invocation)
        replies = [call("GET", f"{API}/invocation/next")]
        assert replies[0].status == 200
        assert replies[0].getheader("Lambda-Runtime-Aws-Request-Id") == invocation.request_id
        assert int(replies[0].getheader("Lambda-Runtime-Deadline-Ms") or 0) > 0
        replies.append(call("POST", f"{API}/invocation/{invocation.request_id}/response", b'{"ok": 1}'))
        assert replies[-1].status == 202 and invocation.response == b'{"ok": 1}'
        replies.append(call("POST", f"{API}/invocation/{invocation.request_id}/response", b"{}"))
        assert replies[-1].status == 400  # already answered
        replies.append(call("POST", f"{API}/init/error", b'{"errorType": "X", "errorMessage": "y"}'))
        assert replies[-1].status == 202 and endpoint.init_error == {"errorType": "X", "errorMessage": "y"}
        replies.append(call("GET", "/nowhere"))
        replies.append(call("POST", "/nowhere"))
        assert [r.status for r in replies[-2:]] == [404, 404]
        assert all(r.getheader("Content-Type") == "application/json" for r in replies)
    finally:
        endpoint.stopping.set()
        endpoint.shutdown()
        endpoint.server_close()


@pytest.mark.slow
def test_cli_query_and_validate_under_the_runtime(demo: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    code = main(["query", "--runtime", "--workers", "2", "--quiet", "--format", "jsonl", JOIN])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert [json.loads(line)["region"] for line in out.splitlines()] == ["amer", "apac", "emea"]
    code = main(["validate", "--runtime", "--schema", "main", "--table", "orders", "--skip", "spill"])
    out, err = capsys.readouterr()
    assert code == 0, out + err


# ------------------------------------------------------------------------------------------ --function


def test_function_requests_are_built_like_athenas(demo: Path) -> None:
    target = FunctionTarget("my-connector", client=object())
    request = target.request(PingRequest(Identity(), "demo", "q").to_wire())
    assert request["FunctionName"] == "my-connector" and request["InvocationType"] == "RequestResponse"
    assert json.loads(request["Payload"])["@type"] == "PingRequest"
    with pytest.raises(ProtocolViolation, match="payload limit"):
        target.request({"@type": "GetSplitsRequest", "padding": "x" * 7_000_000})


def test_a_deployed_function_through_boto3(demo: Path, lambda_invoke_api: Callable[..., object],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    api = lambda_invoke_api({"demo-connector": "connector.handler.lambda_handler"})
    code = main(["query", "--function", "demo-connector", "--quiet", "--format", "jsonl", JOIN])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert len(out.splitlines()) == 3
    calls = api.calls  # type: ignore[attr-defined]
    assert {c["function"] for c in calls} == {"demo-connector"}
    assert {c["type"] for c in calls} == {"RequestResponse"}
    assert [c["request"] for c in calls][:2] == ["PingRequest", "GetDataSourceCapabilitiesRequest"]
    target = FunctionTarget("demo-connector")
    with pytest.raises(LambdaFunctionError) as error:
        LocalAthena(target).run("SELECT * FROM demo.main.nope")
    assert error.value.error_type == ATHENA_CONNECTOR_EXCEPTION  # Java's name, as Athena sees it
    # Lambda could not run the function at all: not a function error of the connector.
    with pytest.raises(InvokeError) as invoke_error:
        FunctionTarget("missing").invoke(PingRequest(Identity(), "demo", "q").to_wire())
    assert invoke_error.value.error_type == "ResourceNotFoundException"
    assert "check the function name" in invoke_error.value.hint
