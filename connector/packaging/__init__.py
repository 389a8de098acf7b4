"""Lambda bundles per adapter (``afq package``): slim, byte-compiled zips for the Lambda Python runtime.

Runs on a developer's machine only; it is left out of the bundles it builds.
"""

from __future__ import annotations

from connector.packaging.build import BuildOptions, BuildResult, build_bundle, default_cache
from connector.packaging.requirements import bundles
from connector.packaging.targets import PackagingError, Target

__all__ = ["bundles", "BuildOptions", "BuildResult", "PackagingError", "Target", "build_bundle", "default_cache"]
