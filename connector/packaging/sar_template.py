"""The SAM template of every bundle (``sar/<bundle>.yaml``), rendered from the engine declarations.

The templates are one skeleton - parameters, least-privilege IAM, conditions, the function, the catalog and the
querying principals' policy are the same for every source - plus what each bundle declares about its engine
(``connector.engines.SarApp``: descriptions, labels, the connection string it accepts, whether a secret is
needed, layers). They are checked in so ``sam deploy --template-file sar/<bundle>.yaml`` works from a clone;
``make sar`` (``python -m connector.packaging.sar_template``) rewrites them and ``--check`` (run by the tests)
fails when one differs from its rendering. Developer-only, like the rest of ``connector.packaging``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from connector.engines import EngineDeclaration, SarApp
from connector.packaging.build import bundle_name
from connector.packaging.targets import Target
from connector.registry import builtin_engines

#: The runtime and architecture the templates' ``CodeUri`` and ``Runtime`` name (``afq package``'s default).
TARGET = Target.of("3.12", "x86_64")
#: Where the checked-in templates live, relative to the repository.
SAR_DIR = Path(__file__).resolve().parents[2] / "sar"
#: Folded descriptions are wrapped to this many characters per line, indentation included.
WIDTH = 111
#: SAR's limits on an application: labels, and characters of its description.
SAR_MAX_LABELS, SAR_MAX_DESCRIPTION = 10, 256
#: SAR's label syntax (at most 127 characters each).
_LABEL = re.compile(r"[a-zA-Z0-9+\-_:/@]{1,127}")
#: Plain scalars YAML 1.1 may read as another type (a number, date, boolean, null, merge key): always quoted.
_TYPED = re.compile(r"[-+.0-9=<~].*|(?i:y|n|yes|no|true|false|on|off|null)")
#: What YAML may not carry at all (outside its printable set) or reads as a line break (NEL, LS, PS).
_UNPRINTABLE = re.compile("[^\\t\\n\\r\\x20-\\x7e\\xa0-\\u2027\\u202a-\\ud7ff\\ue000-\\ufffd\\U00010000-\\U0010ffff]")
#: Text YAML reads back unchanged as a plain scalar on one line (else it is written JSON-quoted).
_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`](?:(?!: | #)[^\n])*(?<![\s:])")


#: Everything but the per-engine parts, ``%(...)s`` marking where they go.
SKELETON = """\
# Rendered by `make sar` from the engine declaration in %(source)s: edit that, not this file.
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: %(description)s

Metadata:
  AWS::ServerlessRepo::Application:
    Name: athena-federation-py-%(name)s
    Description: %(about)s
    Author: athena-federation-py
    SpdxLicenseId: Apache-2.0
    LicenseUrl: ../LICENSE
    ReadmeUrl: README.md
    Labels: [%(labels)s]
    SemanticVersion: 0.1.0
  AWS::CloudFormation::Interface:
    ParameterGroups:
      - Label: { default: Connector }
        Parameters: [LambdaFunctionName, DefaultConnectionString, SecretNamePrefix, AthenaCatalogName, AccessPolicy]
      - Label: { default: Spill }
        Parameters: [SpillBucket, SpillPrefix, DisableSpillEncryption, KmsKeyId]
      - Label: { default: Network }
        Parameters: [SecurityGroupIds, SubnetIds]
      - Label: { default: Function }
        Parameters: [%(function_group)s]

Parameters:
  LambdaFunctionName:
    Description: >-
      Name of the Lambda function, and of the connector in queries: "lambda:<name>".schema.table.
      Lower case because Athena lower-cases catalog names.
    Type: String
    AllowedPattern: ^[a-z0-9-_]{1,64}$
  DefaultConnectionString:
    Description: %(connection_help)s
    Type: String
    AllowedPattern: %(connection_pattern)s
    ConstraintDescription: %(connection_form)s
%(secret_parameter)s  SpillBucket:
    Description: >-
      S3 bucket (name only, no folder) for results too large to return inline. Put the folder in SpillPrefix.
    Type: String
    AllowedPattern: ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$
    ConstraintDescription: a bucket name only (lower case, no "/", no wildcard)
  SpillPrefix:
    Description: Key prefix inside the spill bucket; the function may write and read only below it.
    Type: String
    Default: athena-spill
    AllowedPattern: ^[A-Za-z0-9!_.'()-]+(/[A-Za-z0-9!_.'()-]+)*$
    ConstraintDescription: a key prefix such as athena-spill or team/athena-spill (no leading or trailing "/", no wildcard)
  DisableSpillEncryption:
    Description: true writes spilled blocks unencrypted (they are AES-GCM encrypted by default).
    Type: String
    Default: "false"
    AllowedValues: ["true", "false"]
  KmsKeyId:
    Description: >-
      Optional KMS key ID (in this account and region) for spill data keys; empty uses keys generated in the
      function. KMS permissions are granted only when a key is given.
    Type: String
    Default: ""
    AllowedPattern: ^$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$
    ConstraintDescription: empty, a key ID (UUID) or a multi-Region key ID (mrk-...)
  SecurityGroupIds:
    Description: %(vpc_help)s
    Type: CommaDelimitedList
    Default: ""
  SubnetIds:
    Description: >-
      Private subnets for the function in a VPC (empty = no VPC). They need a NAT gateway or VPC endpoints for
      S3, Secrets Manager and Athena (and KMS when KmsKeyId is set).
    Type: CommaDelimitedList
    Default: ""
  LambdaMemory:
    Description: Memory of the function in MB (CPU grows with it).
    Type: Number
    Default: 3008
    MinValue: 512
    MaxValue: 10240
  LambdaTimeout:
    Description: Maximum run time of one invocation in seconds.
    Type: Number
    Default: 900
    MinValue: 30
    MaxValue: 900
  PermissionsBoundaryARN:
    Description: Optional ARN of a permissions boundary for the function's role.
    Type: String
    Default: ""
  AthenaCatalogName:
    Description: >-
      Optional: also register an Athena data catalog with this name, so queries can say <name>.schema.table.
    Type: String
    Default: ""
    AllowedPattern: ^$|^[a-z0-9_-]{1,127}$
  AccessPolicy:
    Description: >-
      Optional identity-aware access policy (environment variable access_policy, docs/access-control.md): a
      file in the bundle or a layer (/opt/policy.json) or secretsmanager:<name> under SecretNamePrefix. With a
      policy the function trusts the caller's identity only because querying principals may invoke it through
      Athena alone: attach the QueryingPrincipalPolicy output to them instead of granting lambda:InvokeFunction.
    Type: String
    Default: ""
    AllowedPattern: ^$|^/[^*]+$|^secretsmanager:[A-Za-z0-9/_+=.@!-]+$
    ConstraintDescription: empty, an absolute file path or secretsmanager:<secret name>
%(layers_parameter)s
Rules:
  VpcNeedsSubnetsAndSecurityGroups:
    Assertions:
      - Assert: !Or
          - !And [!EachMemberEquals [!Ref SubnetIds, ""], !EachMemberEquals [!Ref SecurityGroupIds, ""]]
          - !And
            - !Not [!EachMemberEquals [!Ref SubnetIds, ""]]
            - !Not [!EachMemberEquals [!Ref SecurityGroupIds, ""]]
        AssertDescription: Give both SubnetIds and SecurityGroupIds (to run in a VPC) or neither.

Conditions:
  HasKmsKey: !Not [!Equals [!Ref KmsKeyId, ""]]
  HasVpc: !Not [!Equals [!Join ["", !Ref SubnetIds], ""]]
  HasPermissionsBoundary: !Not [!Equals [!Ref PermissionsBoundaryARN, ""]]
  HasCatalog: !Not [!Equals [!Ref AthenaCatalogName, ""]]
  HasAccessPolicy: !Not [!Equals [!Ref AccessPolicy, ""]]
%(optional_conditions)s
Resources:
  ConnectorRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
      PermissionsBoundary: !If [HasPermissionsBoundary, !Ref PermissionsBoundaryARN, !Ref AWS::NoValue]
      Policies:
        - PolicyName: connector
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: Logs
                Effect: Allow
                Action: [logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents]
                Resource: !Sub arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${LambdaFunctionName}:*
%(secrets_statement)s              - Sid: SpillObjects
                Effect: Allow
                Action: [s3:PutObject, s3:GetObject]
                Resource: !Sub arn:${AWS::Partition}:s3:::${SpillBucket}/${SpillPrefix}/*
              - Sid: QueryStatus
                Effect: Allow
                Action: athena:GetQueryExecution
                Resource: !Sub arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/*
              - !If
                - HasKmsKey
                - Sid: SpillDataKeys
                  Effect: Allow
                  Action: kms:GenerateDataKey
                  Resource: !Sub arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${KmsKeyId}
                - !Ref AWS::NoValue
              - !If
                - HasKmsKey
                - Sid: SpillNonces
                  Effect: Allow
                  Action: kms:GenerateRandom
                  Resource: "*"
                - !Ref AWS::NoValue
              - !If
                - HasVpc
                - Sid: VpcNetworkInterfaces
                  Effect: Allow
                  Action:
                    - ec2:CreateNetworkInterface
                    - ec2:DescribeNetworkInterfaces
                    - ec2:DescribeSubnets
                    - ec2:DeleteNetworkInterface
                    - ec2:AssignPrivateIpAddresses
                    - ec2:UnassignPrivateIpAddresses
                  Resource: "*"
                - !Ref AWS::NoValue

  ConnectorFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Ref LambdaFunctionName
      Description: %(function_description)s
      CodeUri: ../dist/%(zip)s.zip
      Handler: connector.handler.lambda_handler
      Runtime: python3.12
      Architectures: [x86_64]
      MemorySize: !Ref LambdaMemory
      Timeout: !Ref LambdaTimeout
      Role: !GetAtt ConnectorRole.Arn
%(layers_property)s      Environment:
        Variables:
          default: !Ref DefaultConnectionString
          spill_bucket: !Ref SpillBucket
          spill_prefix: !Ref SpillPrefix
          disable_spill_encryption: !Ref DisableSpillEncryption
          kms_key_id: !If [HasKmsKey, !Ref KmsKeyId, !Ref AWS::NoValue]
          access_policy: !If [HasAccessPolicy, !Ref AccessPolicy, !Ref AWS::NoValue]
          # The QueryingPrincipalPolicy below is what makes the identity in the event Athena's.
          access_identity_protection: !If [HasAccessPolicy, called_via_athena, !Ref AWS::NoValue]
      VpcConfig: !If
        - HasVpc
        - SecurityGroupIds: !Ref SecurityGroupIds
          SubnetIds: !Ref SubnetIds
        - !Ref AWS::NoValue

  DataCatalog:
    Type: AWS::Athena::DataCatalog
    Condition: HasCatalog
    Properties:
      Name: !Ref AthenaCatalogName
      Type: LAMBDA
      Description: %(catalog_description)s
      Parameters:
        function: !GetAtt ConnectorFunction.Arn

  QueryingPrincipalPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Description: !Sub >-
        Query the ${LambdaFunctionName} connector through Athena only: lambda:InvokeFunction when Athena makes
        the call (aws:CalledVia), never directly - so nobody can send the connector an identity of their choosing.
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: InvokeConnectorThroughAthenaOnly
            Effect: Allow
            Action: lambda:InvokeFunction
            Resource: !GetAtt ConnectorFunction.Arn
            Condition:
              ForAnyValue:StringEquals:
                aws:CalledVia: athena.amazonaws.com

Outputs:
  FunctionArn:
    Description: ARN of the connector function (the data catalog's "function" parameter)
    Value: !GetAtt ConnectorFunction.Arn
  QueryPrefix:
    Description: How queries name the connector without a data catalog
    Value: !Sub '"lambda:${LambdaFunctionName}".<schema>.<table>'
  QueryingPrincipalPolicyArn:
    Description: >-
      Attach this managed policy to the principals that query the connector (and grant them no other
      lambda:InvokeFunction on it): they can invoke it only through Athena
    Value: !Ref QueryingPrincipalPolicy
"""

_OPTIONAL_SECRET_CONDITION = """\
  HasSecretPrefix: !Not [!Equals [!Ref SecretNamePrefix, ""]]
"""
_LAYERS_CONDITION = """\
  HasLayers: !Not [!Equals [!Join ["", !Ref LayerArns], ""]]
"""
_SECRETS = """\
- Sid: ConnectionSecrets
  Effect: Allow
  Action: secretsmanager:GetSecretValue
  Resource: !Sub arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${SecretNamePrefix}*
"""
_CONDITIONAL_SECRETS = """\
- !If
  - HasSecretPrefix
""" + textwrap.indent(_SECRETS, "  ") + """\
  - !Ref AWS::NoValue
"""


def render(engine: EngineDeclaration) -> str:
    """The SAM template of ``engine``'s bundle."""
    if engine.bundle is None:
        raise ValueError(f"engine {engine.name} declares no bundle, so it has no SAM template")
    bundle, app = engine.bundle, engine.bundle.sar
    product = app.product or engine.name.capitalize()
    example = app.example or engine.example
    labels = ("athena-federation", *(app.labels or (engine.name,)), "python")
    if bad := [label for label in labels if not _LABEL.fullmatch(label)]:
        raise ValueError(f"bundle {bundle.name}: SAR labels may hold letters, digits and +-_:/@ only: {bad}")
    if len(labels) > SAR_MAX_LABELS:
        raise ValueError(f"bundle {bundle.name}: SAR allows {SAR_MAX_LABELS} labels, not {len(labels)}")
    connection = ("Connection string for every catalog without its own <catalog>_connection_string variable "
                  '(environment variable "default"; the Trianz apps called it JDBCConnectorConfig). '
                  f"Example: {example}")
    connection += (f" - ${{...}} names a Secrets Manager secret holding {app.secret_json}." if app.secret_json
                   else ".")
    headline = app.headline or f"Amazon Athena Federated Query connector for {product} (athena-federation-py, Python)."
    about = app.about or (f"Query {product} from Amazon Athena: filter, LIMIT and top-N pushdown through bind "
                          "parameters, exact DECIMAL and TIMESTAMP types, encrypted spill.")
    if len(" ".join(about.split())) > SAR_MAX_DESCRIPTION:
        raise ValueError(f"bundle {bundle.name}: SAR's application description holds at most "
                         f"{SAR_MAX_DESCRIPTION} characters: {about!r}")
    values = {
        "name": bundle.name,
        "source": f"adapters/{engine.name}/engine.py",
        "zip": bundle_name(bundle.name, TARGET),
        "description": _folded(f'{headline} Query it as "lambda:<LambdaFunctionName>".schema.table or through a '
                               "data catalog.", 2),
        "about": _folded(about, 6),
        "labels": ", ".join(labels),
        "function_group": ", ".join(["LambdaMemory", "LambdaTimeout", "PermissionsBoundaryARN"]
                                    + (["LayerArns"] if app.layers_help else [])),
        "connection_help": _folded(connection, 6),
        "connection_pattern": _scalar(app.connection_pattern or f"^{re.escape(engine.name)}://.+$"),
        "connection_form": _scalar(f"must look like {app.connection_form or example}"),
        "secret_parameter": _secret_parameter(engine.name, product, app),
        "vpc_help": _scalar("Security groups for the function in a VPC (empty = no VPC). "
                            + (app.vpc_help or f"Needed when {product} is in a VPC.")),
        "layers_parameter": _layers_parameter(app.layers_help) if app.layers_help else "",
        "optional_conditions": ((_OPTIONAL_SECRET_CONDITION if app.secret_optional else "")
                                + (_LAYERS_CONDITION if app.layers_help else "")),
        "secrets_statement": textwrap.indent(_CONDITIONAL_SECRETS if app.secret_optional else _SECRETS, " " * 14),
        "layers_property": "      Layers: !If [HasLayers, !Ref LayerArns, !Ref AWS::NoValue]\n" if app.layers_help
        else "",
        "function_description": _scalar(f"Athena Federated Query connector for {product} (athena-federation-py)"),
        # ``${!`` is Fn::Sub's literal ``${``: only the function name is substituted.
        "catalog_description": "!Sub " + _scalar(f"{product.replace('${', '${!')} through the "
                                                 "${LambdaFunctionName} connector"),
    }
    return SKELETON % values


def _secret_parameter(name: str, product: str, app: SarApp) -> str:
    examples = app.secret_examples or (f"{name}/", f"Athena{product.replace(' ', '')}")
    help_ = app.secret_help or (
        "The function may read the Secrets Manager secrets whose names start with this prefix (e.g. "
        + " or ".join(f'"{e}"' for e in examples) + "); the connection string's ${secret} must be one of them. "
        "No wildcards." + (" Empty grants no secret at all." if app.secret_optional else ""))
    lines = ["  SecretNamePrefix:", f"    Description: {_folded(help_, 6)}", "    Type: String"]
    if app.secret_optional:
        lines += ['    Default: ""', "    AllowedPattern: ^[A-Za-z0-9/_+=.@!-]*$",
                  "    ConstraintDescription: a secret name prefix without wildcards, or empty"]
    else:
        lines += ["    AllowedPattern: ^[A-Za-z0-9/_+=.@!-]+$",
                  "    ConstraintDescription: a non-empty secret name prefix without wildcards"]
    return "\n".join(lines) + "\n"


def _layers_parameter(help_: str) -> str:
    return ("  LayerArns:\n"
            f"    Description: {_folded(help_, 6)}\n"
            "    Type: CommaDelimitedList\n"
            '    Default: ""\n')


def _folded(text: str, indent: int) -> str:
    """``text`` as a YAML folded block scalar (``>-``) wrapped at ``WIDTH``: it reads back as the same one line."""
    words = " ".join(_printable(text).split())
    lines = textwrap.wrap(words, WIDTH - indent, break_long_words=False, break_on_hyphens=False)
    return ">-\n" + "\n".join(" " * indent + line for line in lines)


def _scalar(text: str) -> str:
    """``text`` as a plain YAML scalar when it reads back as the same string, else double-quoted (JSON is YAML):
    ``0``, ``1.5``, ``yes`` or ``null`` would read back as a number, a boolean or nothing."""
    plain = _PLAIN.fullmatch(_printable(text)) and not _TYPED.fullmatch(text)
    return text if plain else json.dumps(text, ensure_ascii=False)


def _printable(text: str) -> str:
    if bad := _UNPRINTABLE.search(text):
        raise ValueError(f"{text!r}: {bad.group()!r} cannot be written in a YAML template")
    return text


def bundles_by_engine() -> dict[str, EngineDeclaration]:
    """Every built-in bundle with the engine that declares it, by bundle name."""
    return {d.bundle.name: d for d in builtin_engines().values() if d.bundle is not None}


def render_all() -> dict[str, str]:
    """Every bundle's template, by bundle name."""
    return {name: render(engine) for name, engine in sorted(bundles_by_engine().items())}


def stale(directory: Path = SAR_DIR) -> list[str]:
    """What in ``directory`` differs from the renderings: changed, missing and undeclared templates."""
    rendered = render_all()
    present = {p.stem for p in directory.glob("*.yaml")}
    problems = [f"{name}.yaml is not declared by any engine" for name in sorted(present - set(rendered))]
    for name, text in rendered.items():
        path = directory / f"{name}.yaml"
        if not path.is_file():
            problems.append(f"{name}.yaml is missing")
        elif path.read_text() != text:
            problems.append(f"{name}.yaml differs from its rendering")
    return problems


def write_all(directory: Path = SAR_DIR) -> list[Path]:
    """Write every template into ``directory``; returns the files that changed."""
    changed = []
    for name, text in render_all().items():
        path = directory / f"{name}.yaml"
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connector.packaging.sar_template",
                                     description="Render sar/<bundle>.yaml from the engine declarations.")
    parser.add_argument("directory", nargs="?", type=Path, default=SAR_DIR)
    parser.add_argument("--check", action="store_true", help="only report templates that differ (exit 1)")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale(args.directory)
        for problem in problems:
            print(f"{args.directory}/{problem} (run `make sar`)", file=sys.stderr)
        return 1 if problems else 0
    for path in write_all(args.directory):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
