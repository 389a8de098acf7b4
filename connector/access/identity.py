"""Whose identity the access policy may believe: the deployment says how it is protected, the connector checks.

The identity (``arn``, ``account``, ``tags``, ``groups``) is a field of the Lambda event, written by whoever
invokes the function. Athena writes the real caller's; anybody allowed to invoke the function directly writes
whatever they like. So with an access policy the deployment must declare, in ``access_identity_protection``:

``called_via_athena``
    IAM lets the querying principals invoke the function only through Athena (``aws:CalledVia`` =
    ``athena.amazonaws.com`` on their ``lambda:InvokeFunction``; the SAR templates output that managed
    policy). Every field of the identity is then Athena's.
``fas_verified``
    Every request must carry Athena's forward-access credentials (``identity.configOptions.fas_token``); the
    connector opens them and asks STS whose they are. Only ``arn`` and ``account`` are proven this way, so a
    policy whose rules match ``tags`` or ``groups`` is refused in this mode.
``unverified_local``
    Local runs only (``afq query --as-arn ...``): the identity is whatever the request says. Refused on Lambda.

In every mode a request that carries forward-access credentials has its ``arn`` and ``account`` checked against
STS GetCallerIdentity for them (once per query and token) and is denied on any mismatch.
"""

from __future__ import annotations

import enum
import threading
from collections import OrderedDict
from typing import Any

from connector.config import Settings
from connector.errors import AccessDenied, ConfigurationError
from connector.forward_access import ForwardAccess
from connector.protocol.messages import Identity

PROTECTION_SETTING = "access_identity_protection"
_VERIFIED_PER_PROCESS = 1024


class IdentityProtection(enum.Enum):
    CALLED_VIA_ATHENA = "called_via_athena"
    FAS_VERIFIED = "fas_verified"
    UNVERIFIED_LOCAL = "unverified_local"

    @classmethod
    def of(cls, settings: Settings) -> IdentityProtection:
        """The declared protection; a configuration error (the connector does not start) when missing or wrong."""
        raw = (settings.env.get(PROTECTION_SETTING) or "").strip().lower()
        choices = ", ".join(m.value for m in cls)
        if not raw:
            raise ConfigurationError(
                f"access_policy is set but {PROTECTION_SETTING} is not: declare how the caller's identity is "
                f"protected ({choices}; see docs/access-control.md). Without it anybody allowed to invoke the "
                f"function could claim any identity, so the connector does not start")
        try:
            protection = cls(raw)
        except ValueError:
            raise ConfigurationError(f"{PROTECTION_SETTING}={raw!r} is not one of {choices}") from None
        if protection is cls.UNVERIFIED_LOCAL and settings.in_lambda:
            raise ConfigurationError(f"{PROTECTION_SETTING}=unverified_local is for local runs only; on Lambda use "
                                     f"called_via_athena (with the IAM condition) or fas_verified")
        return protection


class IdentityVerifier:
    """Proves (or refuses) a request's claimed identity according to the declared protection."""

    def __init__(self, protection: IdentityProtection) -> None:
        self.protection = protection
        self._verified: OrderedDict[tuple[str, str], tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, identity: Identity, query_id: str) -> None:
        forward = ForwardAccess.from_config_options(identity.config_options)
        if forward is None:
            if self.protection is IdentityProtection.FAS_VERIFIED:
                raise AccessDenied(f"{PROTECTION_SETTING}=fas_verified: the request carries no forward-access "
                                   f"credentials (identity.configOptions.fas_token), so its identity cannot be "
                                   f"verified; refused")
            return
        arn, account = self._caller_of(forward, query_id)
        if not same_principal(identity.arn or "", arn) or (identity.account or account) != account:
            raise AccessDenied(f"the request claims to be {identity.arn!r} (account {identity.account!r}) but its "
                               f"forward-access credentials belong to {arn!r} (account {account!r}); refused")

    def _caller_of(self, forward: ForwardAccess, query_id: str) -> tuple[str, str]:
        key = (query_id, forward.digest)
        with self._lock:
            found = self._verified.get(key)
            if found is not None:
                self._verified.move_to_end(key)
                return found
        answer = _get_caller_identity(forward)
        with self._lock:
            self._verified[key] = answer
            while len(self._verified) > _VERIFIED_PER_PROCESS:
                self._verified.popitem(last=False)
        return answer


def _get_caller_identity(forward: ForwardAccess) -> tuple[str, str]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer: Any = forward.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as e:
        code = e.response.get("Error", {}).get("Code") if isinstance(e, ClientError) else type(e).__name__
        raise AccessDenied(f"STS did not confirm the forward-access credentials ({code}); refused") from None
    return str(answer["Arn"]), str(answer["Account"])


def same_principal(claimed: str, proven: str) -> bool:
    """The claimed ARN names the principal STS reports.

    STS reports a role session as ``arn:<p>:sts::<acct>:assumed-role/<role>/<session>``; the claim may be that
    ARN or the role's own ``arn:<p>:iam::<acct>:role/<path>/<role>`` (a role name is unique in an account,
    whatever its path). Anything else must match exactly.
    """
    if claimed == proven:
        return True
    parts = proven.split(":", 5)
    if len(parts) != 6 or parts[2] != "sts" or not parts[5].startswith("assumed-role/"):
        return False
    role = parts[5].split("/")[1]
    claim = claimed.split(":", 5)
    return (len(claim) == 6 and claim[:2] == parts[:2] and claim[2] == "iam" and claim[4] == parts[4]
            and claim[5].startswith("role/") and claim[5].rsplit("/", 1)[-1] == role)
