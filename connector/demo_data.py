"""The embedded demo database: a few related tables, deterministic, thousands of rows."""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
from decimal import Decimal

REGIONS = ("emea", "amer", "apac")
STATUSES = ("shipped", "pending", "returned", "cancelled")


def create_demo_database(path: str, *, customers: int = 500, orders: int = 5000) -> str:
    """(Re)create the demo SQLite database at ``path``; returns its absolute path."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        os.remove(path)
    rng = random.Random(20261127)
    db = sqlite3.connect(path)
    try:
        db.executescript("""
            CREATE TABLE customers (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                region TEXT NOT NULL,
                signup_date DATE,
                vip BOOLEAN,
                "Email Address" TEXT
            );
            CREATE TABLE orders (
                id INTEGER PRIMARY KEY,
                customer_id INTEGER NOT NULL REFERENCES customers(id),
                amount DECIMAL(12, 2) NOT NULL,
                ordered_at TIMESTAMP NOT NULL,
                status TEXT NOT NULL,
                note TEXT
            );
            CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount >= 900;
        """)
        start = dt.date(2023, 1, 1)
        db.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
            [(i, f"Customer {i:04d}", REGIONS[i % 3], (start + dt.timedelta(days=rng.randrange(700))).isoformat(),
              int(i % 10 == 0), f"customer{i}@example.com" if i % 7 else None) for i in range(1, customers + 1)])
        base = dt.datetime(2024, 1, 1)
        rows = []
        for i in range(1, orders + 1):
            amount = Decimal(rng.randrange(100, 100_000)) / 100
            when = base + dt.timedelta(minutes=rng.randrange(60 * 24 * 365))
            note = None if i % 5 else rng.choice(["gift", "rush", "50% off", "it's_fine"])
            rows.append((i, rng.randrange(1, customers + 1), str(amount), when.isoformat(sep=" "),
                         rng.choice(STATUSES), note))
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.commit()
    finally:
        db.close()
    return path
