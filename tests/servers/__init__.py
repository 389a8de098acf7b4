"""Real servers started for the test session (each module is a pytest plugin listed in tests/conftest.py)."""
