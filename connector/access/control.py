"""Whether an access policy applies, and the caller's access under it.

Kept apart from ``enforce`` (Arrow, sqlglot, the evaluator) so that a deployment without a policy - the usual
one - never imports the policy machinery: ``caller`` answers None and nothing else is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.config import Settings

if TYPE_CHECKING:
    from connector.access.identity import IdentityProtection, IdentityVerifier
    from connector.access.policy import CallerAccess
    from connector.access.source import PolicySource
    from connector.protocol.messages import Identity


class AccessControl:
    """The policy (if ``access_policy`` is set) and the identity protection the deployment declared for it.

    Built once per process: a policy without a valid ``access_identity_protection`` is a configuration error,
    so the connector does not start.
    """

    def __init__(self, settings: Settings) -> None:
        location = (settings.env.get("access_policy") or "").strip()
        self.settings = settings
        self.source: PolicySource | None = None
        self.protection: IdentityProtection | None = None
        self.verifier: IdentityVerifier | None = None
        if location:
            from connector.access.identity import IdentityProtection, IdentityVerifier
            from connector.access.source import DEFAULT_TTL_SECONDS, PolicySource

            ttl = settings.env.get("access_policy_ttl_seconds")
            self.source = PolicySource(location, float(ttl) if ttl else DEFAULT_TTL_SECONDS)
            self.protection = IdentityProtection.of(settings)
            self.verifier = IdentityVerifier(self.protection)

    def caller(self, identity: Identity, catalog: str, query_id: str = "") -> CallerAccess | None:
        if self.source is None or self.verifier is None:
            return None
        from connector.access.identity import PROTECTION_SETTING, IdentityProtection
        from connector.access.policy import CallerAccess, PolicyError
        from connector.connection import connection_identity

        self.verifier.check(identity, query_id)  # a forged or unprovable identity never reaches the policy
        policy = self.source.get()
        if self.protection is IdentityProtection.FAS_VERIFIED and policy.unverifiable_rules():
            raise PolicyError(f"access policy {policy.source}: rule(s) {policy.unverifiable_rules()} match on tags "
                              f"or groups, which {PROTECTION_SETTING}=fas_verified cannot prove (only the ARN and "
                              f"account are); match on arn/account, or use called_via_athena")
        env, function = self.settings.env, self.settings.function_name

        def resolve(kind: str, name: str) -> str | None:
            return connection_identity(kind, name, env, function)

        return CallerAccess(policy, policy.rule_for(identity), catalog, resolve)
