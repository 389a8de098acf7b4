"""The access policy: rules that match callers and grant tables, columns, masks and row filters.

A policy is JSON (or YAML) like::

    {"secret": "a long random string",          # salts hash masks and signs splits; keep the policy private
     "rules": [
       {"name": "admins", "match": {"groups": ["admins"]}, "access": "all"},
       {"name": "analysts", "match": {"tags": {"team": "analytics"}},
        "tables": [{"schema": "main", "table": "customers",
                    "columns": ["*"], "exclude": ["ssn"],
                    "masks": {"email": "hash", "phone": {"fixed": "***"}, "name": "null"},
                    "row_filter": "region = 'emea'"},
                   {"schema": "main", "table": "orders"}],
        "udfs": ["normalize_phone"]}],
     "samples": [{"arn": "arn:aws:iam::111122223333:user/ana", "tags": {"team": "analytics"}}]}

Rules are tried in order and the first whose ``match`` fits the caller applies (every condition given must
hold; a list means any of its values). A caller no rule matches sees nothing. Within a rule, the first table
entry whose schema/table patterns (shell-style, lower case) fit the table applies - and whose ``catalog`` and
``connection`` (literal names, default ``*``) read the same connection as the request: a catalog is compared by
the connection string it resolves to, exactly as the adapters resolve it, so ``catalog: shop`` also covers
``lambda:<function>`` when both read through ``default``.

The ``secret`` is never used directly: one key per purpose is derived from it (hash masks, split signatures),
so a value produced for one purpose is worthless for the other.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connector.errors import AccessDenied
from connector.protocol.messages import Identity


class PolicyError(AccessDenied):
    """The policy itself is wrong; every request is denied until it is fixed (fail closed)."""


def _strings(value: Any, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyError(f"{path} must be a string or a list of strings")


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{path} must be an object")
    return value


def _only(obj: Mapping[str, Any], allowed: set[str], path: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise PolicyError(f"{path} has unknown key(s) {unknown}; allowed: {sorted(allowed)}")


@dataclass(frozen=True)
class Match:
    arns: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: Any, path: str) -> Match:
        obj = _object(value, path)
        _only(obj, {"arn", "account", "tags", "groups"}, path)
        tags = _object(obj.get("tags", {}), f"{path}.tags")
        if not all(isinstance(v, str) for v in tags.values()):
            raise PolicyError(f"{path}.tags values must be strings")
        return cls(_strings(obj.get("arn"), f"{path}.arn"), _strings(obj.get("account"), f"{path}.account"),
                   dict(tags), _strings(obj.get("groups"), f"{path}.groups"))

    def fits(self, identity: Identity) -> bool:
        if self.arns and not any(fnmatch.fnmatchcase(identity.arn or "", p) for p in self.arns):
            return False
        if self.accounts and (identity.account or "") not in self.accounts:
            return False
        if any(identity.tags.get(k) != v for k, v in self.tags.items()):
            return False
        return not self.groups or bool(set(self.groups) & set(identity.groups))


@dataclass(frozen=True)
class Mask:
    """``null``: NULL; ``fixed``: a constant string; ``hash``: a salted keyed hash (stable, so joins work)."""

    kind: str
    value: str | None = None

    @classmethod
    def parse(cls, value: Any, path: str) -> Mask:
        if value in ("null", None):
            return cls("null")
        if value == "hash":
            return cls("hash")
        if isinstance(value, Mapping) and set(value) == {"fixed"} and isinstance(value["fixed"], str):
            return cls("fixed", value["fixed"])
        raise PolicyError(f"{path} must be \"null\", \"hash\" or {{\"fixed\": \"text\"}}")


@dataclass(frozen=True)
class TableGrant:
    catalog: str
    schema: str
    table: str
    columns: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    masks: Mapping[str, Mask] = field(default_factory=dict)
    row_filter: str | None = None
    connection: str = "*"

    @classmethod
    def parse(cls, value: Any, path: str) -> TableGrant:
        obj = _object(value, path)
        _only(obj, {"catalog", "connection", "schema", "table", "columns", "exclude", "masks", "row_filter"}, path)
        masks = {str(k).lower(): Mask.parse(v, f"{path}.masks.{k}")
                 for k, v in _object(obj.get("masks", {}), f"{path}.masks").items()}
        row_filter = obj.get("row_filter")
        if row_filter is not None and (not isinstance(row_filter, str) or not row_filter.strip()):
            raise PolicyError(f"{path}.row_filter must be a non-empty SQL predicate")
        patterns = {k: str(obj.get(k, "*")).strip().lower() for k in ("catalog", "connection", "schema", "table")}
        for k in ("catalog", "connection"):
            if patterns[k] != "*" and any(c in patterns[k] for c in "*?[]"):
                raise PolicyError(f"{path}.{k} must be one name or \"*\", not a pattern: a pattern could match "
                                  f"one alias of a connection and miss another that reads the same data")
        columns = tuple(c.lower() for c in _strings(obj.get("columns", ["*"]), f"{path}.columns"))
        return cls(patterns["catalog"], patterns["schema"], patterns["table"], columns,
                   tuple(c.lower() for c in _strings(obj.get("exclude"), f"{path}.exclude")), masks, row_filter,
                   patterns["connection"])

    def covers(self, schema: str, table: str | None = None) -> bool:
        """The schema (and table) patterns fit these resolved, lower-case names."""
        return fnmatch.fnmatchcase(schema, self.schema) and (table is None or fnmatch.fnmatchcase(table, self.table))

    def column_visible(self, column: str) -> bool:
        listed = "*" in self.columns or column in self.columns
        return listed and column not in self.exclude


@dataclass(frozen=True)
class Rule:
    name: str
    match: Match
    all_access: bool = False
    tables: tuple[TableGrant, ...] = ()
    udfs: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: Any, path: str) -> Rule:
        obj = _object(value, path)
        _only(obj, {"name", "match", "access", "tables", "udfs"}, path)
        name = str(obj.get("name") or path)
        access = obj.get("access")
        if access not in (None, "all"):
            raise PolicyError(f"{path}.access must be \"all\" or absent")
        tables = obj.get("tables", [])
        if not isinstance(tables, list):
            raise PolicyError(f"{path}.tables must be a list")
        if access == "all" and tables:
            raise PolicyError(f"{path}: a rule with access \"all\" lists no tables")
        return cls(name, Match.parse(obj.get("match", {}), f"{path}.match"), access == "all",
                   tuple(TableGrant.parse(t, f"{path}.tables[{i}]") for i, t in enumerate(tables)),
                   tuple(u.lower() for u in _strings(obj.get("udfs"), f"{path}.udfs")))


#: Purposes of the keys derived from the policy's secret.
MASK_KEY = "hash-mask"
SPLIT_KEY = "split-signature"


@dataclass(frozen=True)
class Policy:
    secret: str = field(repr=False)
    rules: tuple[Rule, ...]
    samples: tuple[Identity, ...] = ()
    source: str = "policy"

    def key(self, purpose: str) -> bytes:
        """The key for one purpose (``MASK_KEY``, ``SPLIT_KEY``): HMAC-SHA256 of a purpose label under the secret,
        so a hash mask can never serve as a split signature, nor the reverse."""
        if purpose not in (MASK_KEY, SPLIT_KEY):
            raise ValueError(f"unknown key purpose {purpose!r}")
        label = f"athena-federation-py/access-policy/{purpose}/v1".encode()
        return hmac.new(self.secret.encode(), label, hashlib.sha256).digest()

    def unverifiable_rules(self) -> list[str]:
        """Rules that match on tags or groups, which forward-access credentials cannot prove."""
        return [r.name for r in self.rules if r.match.tags or r.match.groups]

    @classmethod
    def parse(cls, value: Any, source: str) -> Policy:
        obj = _object(value, "the policy")
        _only(obj, {"secret", "rules", "samples", "version"}, "the policy")
        secret = obj.get("secret")
        if not isinstance(secret, str) or len(secret) < 16:
            raise PolicyError("the policy needs a \"secret\" of at least 16 characters (it salts hash masks and "
                              "signs splits)")
        rules = obj.get("rules")
        if not isinstance(rules, list) or not rules:
            raise PolicyError("the policy needs a non-empty \"rules\" list")
        samples = []
        for i, sample in enumerate(obj.get("samples", []) or []):
            s = _object(sample, f"samples[{i}]")
            _only(s, {"arn", "account", "tags", "groups"}, f"samples[{i}]")
            samples.append(Identity(account=s.get("account"), arn=s.get("arn"),
                                    tags=dict(_object(s.get("tags", {}), f"samples[{i}].tags")),
                                    groups=_strings(s.get("groups"), f"samples[{i}].groups")))
        return cls(secret, tuple(Rule.parse(r, f"rules[{i}]") for i, r in enumerate(rules)), tuple(samples), source)

    def rule_for(self, identity: Identity) -> Rule | None:
        return next((r for r in self.rules if r.match.fits(identity)), None)


#: (kind, name) -> the connection it reads (engine and URL), or None; kind is "catalog" or "connection".
ConnectionResolver = Callable[[str, str], "str | None"]


def _by_name(kind: str, name: str) -> str | None:
    """Without an environment (offline reports): a catalog reads the connection of its own name."""
    return name.lower()


@dataclass(frozen=True)
class CallerAccess:
    """What one caller may do in one catalog (``rule`` None: nothing)."""

    policy: Policy
    rule: Rule | None
    catalog: str
    resolve: ConnectionResolver = _by_name

    def reads_here(self, grant: TableGrant) -> bool:
        """The grant's catalog and connection read the connection the request's catalog resolves to."""
        if grant.catalog == "*" and grant.connection == "*":
            return True
        here = self.resolve("catalog", self.catalog)
        if here is None:
            return False
        return ((grant.catalog == "*" or self.resolve("catalog", grant.catalog) == here)
                and (grant.connection == "*" or self.resolve("connection", grant.connection) == here))

    @property
    def unrestricted(self) -> bool:
        return self.rule is not None and self.rule.all_access

    @property
    def who(self) -> str:
        return f"rule {self.rule.name!r}" if self.rule else "no rule of the access policy"

    def schema_visible(self, schema: str) -> bool:
        return self.unrestricted or bool(self.rule and any(g.covers(schema) and self.reads_here(g)
                                                           for g in self.rule.tables))

    def grant(self, schema: str, table: str) -> TableGrant | None:
        """The grant for a table; a full grant for unrestricted callers; None if the table is not visible."""
        if self.unrestricted:
            return TableGrant(self.catalog, schema, table)
        if self.rule is None:
            return None
        return next((g for g in self.rule.tables if g.covers(schema, table) and self.reads_here(g)), None)

    def may_call_udf(self, name: str) -> bool:
        return self.unrestricted or bool(self.rule and name.lower() in self.rule.udfs)


def describe_access(access: CallerAccess, tables: Sequence[tuple[str, str, Sequence[str]]]) -> list[str]:
    """Human-readable lines of what a caller sees (``afq validate`` prints them per sample identity)."""
    lines = [f"matched {access.who}" + (" (all access)" if access.unrestricted else "")]
    for schema, table, columns in tables:
        grant = access.grant(schema, table)
        if grant is None:
            continue
        visible = [c for c in columns if grant.column_visible(c)]
        masked = {c: m.kind for c, m in grant.masks.items() if c in visible}
        text = f"  {schema}.{table}: columns {', '.join(visible) or '(none)'}"
        if masked:
            text += "; masked " + ", ".join(f"{c} ({k})" for c, k in masked.items())
        if grant.row_filter:
            text += f"; rows where {grant.row_filter}"
        lines.append(text)
    return lines
