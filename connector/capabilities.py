"""What a connector tells Athena it will apply itself (GetDataSourceCapabilities).

Declaring an optimization is a promise: Athena then trusts the connector to apply it exactly and may not
re-check. The framework keeps that promise for every adapter - whatever an adapter cannot render at the source
is evaluated on the Arrow batches before they are returned (``connector.records``) - so adapters declare what
the *framework* can apply exactly, and choose separately what to push to the source.
"""

from __future__ import annotations

from dataclasses import field

from connector.lazy_dataclass import lazy_dataclass
from connector.protocol.constraints import STANDARD_FUNCTIONS
from connector.protocol.messages import OptimizationSubType

FILTER = "supports_filter_pushdown"
COMPLEX_EXPRESSION = "supports_complex_expression_pushdown"
LIMIT = "supports_limit_pushdown"
TOP_N = "supports_top_n_pushdown"
HINTS = "data_source_hints"
PASSTHROUGH_SIGNATURE = "SYSTEM.QUERY"
PASSTHROUGH_ARGUMENT = "QUERY"


@lazy_dataclass(slots=True)
class Capabilities:
    filter: bool = True
    functions: frozenset[str] = field(default_factory=lambda: frozenset(STANDARD_FUNCTIONS))
    limit: bool = True
    top_n: bool = True
    passthrough: bool = False
    non_default_collate: bool = False

    def to_wire(self, *, passthrough_enabled: bool = True) -> dict[str, tuple[OptimizationSubType, ...]]:
        out: dict[str, tuple[OptimizationSubType, ...]] = {}
        if self.filter:
            out[FILTER] = (OptimizationSubType("sorted_range_set"), OptimizationSubType("equatable_range_set"),
                           OptimizationSubType("all_or_none_value_set"), OptimizationSubType("nullable_comparison"))
        if self.functions:
            ordered = tuple(f for f in STANDARD_FUNCTIONS if f in self.functions)
            out[COMPLEX_EXPRESSION] = (OptimizationSubType("supported_function_expression_types", ordered),)
        if self.limit:
            out[LIMIT] = (OptimizationSubType("integer_constant"),)
        if self.top_n:
            out[TOP_N] = (OptimizationSubType("SUPPORTS_ORDER_BY"),)
        if self.non_default_collate:
            out[HINTS] = (OptimizationSubType("non_default_collate"),)
        if self.passthrough and passthrough_enabled:
            schema, name = PASSTHROUGH_SIGNATURE.split(".")
            out[PASSTHROUGH_SIGNATURE] = (
                OptimizationSubType("query_passthrough_schema", (schema.lower(),)),
                OptimizationSubType("query_passthrough_name", (name.lower(),)),
                OptimizationSubType("query_passthrough_arguments", (PASSTHROUGH_ARGUMENT,)),
            )
        return out
