"""What each sample identity of the access policy can see, asked through the protocol as that caller."""

from __future__ import annotations

from typing import TextIO

from connector.access.policy import CallerAccess, describe_access
from connector.access.source import PolicySource
from connector.errors import ConnectorError
from connector.local.session import CatalogSession
from connector.local.targets import Target


def report_access(target: Target, catalog: str, location: str, out: TextIO) -> None:
    policy = PolicySource(location).get()
    print(f"\naccess policy {location}: {len(policy.rules)} rule(s), {len(policy.samples)} sample identit(ies)",
          file=out)
    for identity in policy.samples:
        who = identity.arn or identity.account or "(anonymous)"
        extras = [f"{k}={v}" for k, v in sorted(identity.tags.items())] + [f"group {g}" for g in identity.groups]
        print(f"\n  as {who}" + (f" ({', '.join(extras)})" if extras else ""), file=out)
        session = CatalogSession(target, catalog, identity=identity)
        seen: list[tuple[str, str, list[str]]] = []
        try:
            for schema in session.list_schemas():
                for table in session.list_tables(schema, None, -1).tables:
                    info = session.get_table(table)
                    seen.append((table.schema, table.table, list(info.logical.names)))
        except ConnectorError as e:
            print(f"    denied: {type(e).__name__}: {e}", file=out)
            continue
        lines = describe_access(CallerAccess(policy, policy.rule_for(identity), catalog), seen)
        for line in lines:
            print(f"    {line}", file=out)
        if not seen:
            print("    sees no tables", file=out)
