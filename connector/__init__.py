"""Athena Federated Query connector framework.

Imports here stay cheap on purpose: Lambda cold start pays for every module loaded at import time.
"""

__version__ = "0.1.0"
