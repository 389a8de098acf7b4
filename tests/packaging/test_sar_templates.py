"""The SAM templates in sar/: cfn-lint clean, the parameters users know, least-privilege IAM, and environment
variables the connector really reads.

IAM is checked on the *effective* policy: the templates' conditions are evaluated for a deployment without and
with a VPC and a KMS key, so a permission that should only exist with a VPC cannot slip in unconditionally.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.config import Settings
from connector.connection import connection_string_for
from connector.packaging.build import bundle_name
from connector.packaging.targets import Target

SAR = Path(__file__).resolve().parents[2] / "sar"
ADAPTERS = ("oracle", "snowflake", "teradata", "generic", "sqlite")
ISSUE_PARAMETERS = {"LambdaFunctionName", "SecretNamePrefix", "SpillBucket", "SpillPrefix", "DefaultConnectionString",
                    "DisableSpillEncryption", "KmsKeyId", "SecurityGroupIds", "SubnetIds", "LambdaMemory",
                    "LambdaTimeout", "PermissionsBoundaryARN", "AccessPolicy"}
ENGINE = {"oracle": "oracle", "snowflake": "snowflake", "teradata": "teradata", "generic": "sqlite",
          "sqlite": "sqlite"}
CONNECTION = {"oracle": "oracle://jdbc:oracle:thin:${oracle/athena}@//db:1521/ORCLPDB1",
              "snowflake": "snowflake://jdbc:snowflake://acct.snowflakecomputing.com/?warehouse=WH&${sf/athena}",
              "teradata": "teradata://jdbc:teradata://db/TMODE=ANSI,CHARSET=UTF8,${td/athena}",
              "generic": "sqlite://jdbc:sqlite:/opt/data/demo.db",
              "sqlite": "sqlite://jdbc:sqlite:/opt/data/demo.db"}
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
PARTITION, REGION, ACCOUNT = "aws", "eu-west-1", "123456789012"


def load(adapter: str) -> Any:
    from cfnlint.decode.cfn_yaml import load as load_yaml

    return load_yaml(str(SAR / f"{adapter}.yaml"))


def test_every_adapter_has_a_template() -> None:
    assert sorted(p.stem for p in SAR.glob("*.yaml")) == sorted(ADAPTERS)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_template_is_cfn_lint_clean(adapter: str) -> None:
    from cfnlint.api import lint_file

    matches = lint_file(SAR / f"{adapter}.yaml")
    assert not matches, "\n".join(str(m) for m in matches)


def test_cfn_lint_does_catch_a_broken_template() -> None:
    from cfnlint.api import lint

    text = (SAR / "oracle.yaml").read_text().replace("Runtime: python3.12", "Runtime: python2.7")
    text = text.replace("!GetAtt ConnectorRole.Arn", "!GetAtt NoSuchRole.Arn")
    rules = {m.rule.id for m in lint(text)}
    assert rules, "cfn-lint found nothing wrong with a deprecated runtime and a dangling GetAtt"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_template_has_sar_metadata_and_the_parameters_users_know(adapter: str) -> None:
    template = load(adapter)
    app = template["Metadata"]["AWS::ServerlessRepo::Application"]
    assert app["Name"] == f"athena-federation-py-{adapter}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", app["SemanticVersion"]) and app["SpdxLicenseId"] == "Apache-2.0"
    assert (SAR / app["ReadmeUrl"]).is_file()
    # `sam publish` uploads LicenseUrl (resolved from the template's directory); it must be the license the
    # SpdxLicenseId names, in full.
    license_text = (SAR / app["LicenseUrl"]).read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text and len(license_text.splitlines()) > 190
    assert set(template["Parameters"]) >= ISSUE_PARAMETERS
    assert "JDBCConnectorConfig" in template["Parameters"]["DefaultConnectionString"]["Description"]
    grouped = {p for g in template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
               for p in g["Parameters"]}
    assert grouped == set(template["Parameters"])


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_function_runs_the_bundle_afq_package_builds(adapter: str) -> None:
    function = load(adapter)["Resources"]["ConnectorFunction"]["Properties"]
    assert function["Handler"] == "connector.handler.lambda_handler"
    runtime = re.fullmatch(r"python3\.(\d+)", function["Runtime"])
    assert runtime and int(runtime.group(1)) >= 12
    arch = function["Architectures"][0]
    expected = bundle_name(adapter, Target.of(function["Runtime"].removeprefix("python"), arch))
    assert function["CodeUri"] == f"../dist/{expected}.zip"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_environment_variables_are_the_ones_the_connector_reads(adapter: str) -> None:
    values = parameters(adapter, vpc=False, kms=True, DisableSpillEncryption="true")
    template = resolve(load(adapter), values)
    env = template["Resources"]["ConnectorFunction"]["Properties"]["Environment"]["Variables"]
    settings = Settings.from_env(env)
    assert settings.spill_bucket == "my-spill-bucket" and settings.spill_prefix == "athena/spill"
    assert settings.disable_spill_encryption is True and settings.kms_key_id == KEY_ID
    assert connection_string_for("anycatalog", env).engine == ENGINE[adapter]
    without_key = resolve(load(adapter), parameters(adapter, vpc=False, kms=False))
    assert "kms_key_id" not in without_key["Resources"]["ConnectorFunction"]["Properties"]["Environment"]["Variables"]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("vpc", [False, True])
@pytest.mark.parametrize("kms", [False, True])
def test_iam_is_least_privilege(adapter: str, vpc: bool, kms: bool) -> None:
    template = resolve(load(adapter), parameters(adapter, vpc=vpc, kms=kms))
    role = template["Resources"]["ConnectorRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    by_action = {a: s for s in statements for a in _list(s["Action"])}
    assert all(s["Effect"] == "Allow" for s in statements)
    assert not [a for a in by_action if "*" in a], "wildcard actions"
    assert "ManagedPolicyArns" not in role  # AWSLambdaVPCAccessExecutionRole & co. are broader than needed

    arn = f"arn:{PARTITION}"
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == \
        f"{arn}:secretsmanager:{REGION}:{ACCOUNT}:secret:db/athena-*"
    assert {a for a in by_action if a.startswith("secretsmanager:")} == {"secretsmanager:GetSecretValue"}
    spill = by_action["s3:PutObject"]
    assert {a for a in by_action if a.startswith("s3:")} == {"s3:PutObject", "s3:GetObject"}
    assert spill["Resource"] == f"{arn}:s3:::my-spill-bucket/athena/spill/*"
    assert by_action["athena:GetQueryExecution"]["Resource"] == f"{arn}:athena:{REGION}:{ACCOUNT}:workgroup/*"
    assert set(_list(by_action["logs:PutLogEvents"]["Resource"])) == {
        f"{arn}:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/my-connector:*"}

    kms_actions = {a for a in by_action if a.startswith("kms:")}
    assert kms_actions == ({"kms:GenerateDataKey", "kms:GenerateRandom"} if kms else set())
    if kms:
        assert by_action["kms:GenerateDataKey"]["Resource"] == f"{arn}:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
    ec2_actions = {a for a in by_action if a.startswith("ec2:")}
    assert bool(ec2_actions) == vpc
    assert ec2_actions <= {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                           "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                           "ec2:UnassignPrivateIpAddresses"}
    # "*" only where AWS allows nothing narrower: ENI management and GenerateRandom (which takes no key).
    wildcard = {a for s in statements if s["Resource"] == "*" for a in _list(s["Action"])}
    assert wildcard <= ec2_actions | {"kms:GenerateRandom"}

    function = template["Resources"]["ConnectorFunction"]["Properties"]
    assert ("VpcConfig" in function) == vpc
    if vpc:
        assert function["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "SubnetIds": ["subnet-1", "subnet-2"]}
    assert role["PermissionsBoundary"] == "arn:aws:iam::123456789012:policy/boundary"


@pytest.mark.parametrize("adapter", ["generic", "sqlite"])
def test_an_empty_secret_prefix_grants_no_secret(adapter: str) -> None:
    template = resolve(load(adapter), parameters(adapter, vpc=False, kms=False, SecretNamePrefix=""))
    role = template["Resources"]["ConnectorRole"]["Properties"]
    actions = {a for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] for a in _list(s["Action"])}
    assert not {a for a in actions if a.startswith("secretsmanager:")}
    assert "PermissionsBoundary" not in resolve(load(adapter), parameters(
        adapter, vpc=False, kms=False, PermissionsBoundaryARN=""))["Resources"]["ConnectorRole"]["Properties"]


def test_the_sqlite_template_takes_only_sqlite_connection_strings() -> None:
    pattern = load("sqlite")["Parameters"]["DefaultConnectionString"]["AllowedPattern"]
    assert re.fullmatch(pattern, "sqlite://jdbc:sqlite:/opt/data/shop.db")
    for wrong in ("jdbc://jdbc:postgresql://h/db", "sqlite://jdbc:sqlite:relative.db", "oracle://x"):
        assert not re.fullmatch(pattern, wrong)


@pytest.mark.parametrize("adapter", ["oracle", "snowflake", "teradata"])
def test_database_templates_require_a_secret_prefix(adapter: str) -> None:
    parameter = load(adapter)["Parameters"]["SecretNamePrefix"]
    assert "Default" not in parameter and not re.fullmatch(parameter["AllowedPattern"], "")


def test_the_data_catalog_is_registered_only_when_named() -> None:
    named = resolve(load("oracle"), parameters("oracle", vpc=False, kms=False, AthenaCatalogName="ora"))
    catalog = named["Resources"]["DataCatalog"]["Properties"]
    assert catalog["Type"] == "LAMBDA" and catalog["Name"] == "ora"
    assert catalog["Parameters"] == {"function": {"Fn::GetAtt": ["ConnectorFunction", "Arn"]}}
    assert "DataCatalog" not in resolve(load("oracle"), parameters("oracle", vpc=False, kms=False))["Resources"]


@pytest.mark.parametrize("adapter", ADAPTERS)
@given(text=st.text(alphabet="ab-/*.A_ ", max_size=20))
def test_spill_location_parameters_reject_wildcards_and_folders_in_the_bucket(adapter: str, text: str) -> None:
    parameters_ = load_cached(adapter)["Parameters"]
    bucket = re.fullmatch(parameters_["SpillBucket"]["AllowedPattern"], text)
    prefix = re.fullmatch(parameters_["SpillPrefix"]["AllowedPattern"], text)
    if "*" in text or " " in text:
        assert not bucket and not prefix
    if bucket:
        assert "/" not in text and text == text.lower()
    if prefix:
        assert not text.startswith("/") and not text.endswith("/") and "//" not in text


@pytest.mark.parametrize("value", ["Athena-accelerator/teradata", "*", "my-bucket/", "a"])
def test_spill_bucket_rejects_the_trianz_blog_form(value: str) -> None:
    assert not re.fullmatch(load_cached("teradata")["Parameters"]["SpillBucket"]["AllowedPattern"], value)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_querying_principals_get_a_policy_that_invokes_through_athena_only(adapter: str) -> None:
    template = resolve(load(adapter), parameters(adapter, vpc=False, kms=False))
    policy = template["Resources"]["QueryingPrincipalPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"] == {"Fn::GetAtt": ["ConnectorFunction", "Arn"]}
    assert statement["Condition"] == {"ForAnyValue:StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}}
    assert load(adapter)["Outputs"]["QueryingPrincipalPolicyArn"]["Value"] == {"Ref": "QueryingPrincipalPolicy"}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_access_policy_is_deployed_with_its_identity_protection(adapter: str) -> None:
    from connector.access.identity import IdentityProtection

    values = parameters(adapter, vpc=False, kms=False, AccessPolicy="secretsmanager:db/athena-policy")
    env = resolve(load(adapter), values)["Resources"]["ConnectorFunction"]["Properties"]["Environment"]["Variables"]
    assert env["access_policy"] == "secretsmanager:db/athena-policy"
    on_lambda = Settings.from_env({**env, "AWS_LAMBDA_FUNCTION_NAME": "my-connector"})
    assert IdentityProtection.of(on_lambda) is IdentityProtection.CALLED_VIA_ATHENA
    without = resolve(load(adapter), parameters(adapter, vpc=False, kms=False))
    variables = without["Resources"]["ConnectorFunction"]["Properties"]["Environment"]["Variables"]
    assert "access_policy" not in variables and "access_identity_protection" not in variables


# ---------------------------------------------------------------------------------------------------- helpers

_CACHE: dict[str, Any] = {}


def load_cached(adapter: str) -> Any:
    if adapter not in _CACHE:
        _CACHE[adapter] = load(adapter)
    return _CACHE[adapter]


def parameters(adapter: str, *, vpc: bool, kms: bool, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "LambdaFunctionName": "my-connector", "SecretNamePrefix": "db/athena-", "SpillBucket": "my-spill-bucket",
        "SpillPrefix": "athena/spill", "DefaultConnectionString": CONNECTION[adapter],
        "DisableSpillEncryption": "false", "KmsKeyId": KEY_ID if kms else "",
        "SecurityGroupIds": ["sg-1"] if vpc else [""], "SubnetIds": ["subnet-1", "subnet-2"] if vpc else [""],
        "LambdaMemory": 3008, "LambdaTimeout": 900, "LayerArns": [""], "AthenaCatalogName": "",
        "PermissionsBoundaryARN": "arn:aws:iam::123456789012:policy/boundary", "AccessPolicy": "",
    }
    values.update(overrides)
    return values


NO_VALUE = object()


def resolve(template: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The template with conditions applied and Ref/Sub/Join/If resolved (resources' GetAtt left as is)."""
    pseudo = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    refs = {**values, **pseudo}
    conditions: dict[str, bool] = {}

    def value(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"}:
                return NO_VALUE if node["Ref"] == "AWS::NoValue" else refs.get(node["Ref"], node)
            if set(node) == {"Fn::Sub"}:
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(refs[m.group(1)]), node["Fn::Sub"])
            if set(node) == {"Fn::Join"}:
                separator, items = node["Fn::Join"]
                return separator.join(str(i) for i in value(items))
            if set(node) == {"Fn::If"}:
                name, yes, no = node["Fn::If"]
                return value(yes if conditions[name] else no)
            if set(node) == {"Fn::Equals"}:
                a, b = node["Fn::Equals"]
                return value(a) == value(b)
            if set(node) == {"Fn::Not"}:
                return not value(node["Fn::Not"][0])
            out = {}
            for k, v in node.items():
                resolved = value(v)
                if resolved is not NO_VALUE:
                    out[str(k)] = resolved
            return out
        if isinstance(node, list):
            return [r for r in (value(i) for i in node) if r is not NO_VALUE]
        return node

    for name, expression in template["Conditions"].items():
        conditions[name] = bool(value(expression))
    resources = {}
    for name, resource in template["Resources"].items():
        if "Condition" in resource and not conditions[resource["Condition"]]:
            continue
        resources[name] = value(resource)
    return {"Resources": resources}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
