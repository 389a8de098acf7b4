"""The embedded demo database: a few related tables, deterministic, thousands of rows."""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
from decimal import Decimal

REGIONS = ("emea", "amer", "apac")
STATUSES = ("shipped", "pending", "returned", "cancelled")


def _fresh_database(path: str) -> tuple[str, sqlite3.Connection]:
    """An empty SQLite file at ``path`` (absolute), replacing any earlier one, and a connection to it."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        os.remove(path)
    return path, sqlite3.connect(path)


def create_demo_database(path: str, *, customers: int = 500, orders: int = 5000) -> str:
    """(Re)create the demo SQLite database at ``path``; returns its absolute path."""
    path, db = _fresh_database(path)
    rng = random.Random(20261127)
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


PRIORITIES = ("low", "normal", "high", "urgent")
TICKET_STATUSES = ("open", "waiting", "closed")
COUNTRIES = ("de", "fr", "us", "br", "jp", "in", "au")


def create_support_database(path: str, *, customers: int = 500, tickets: int = 3000) -> str:
    """(Re)create the demo's second database - support tickets of the same customers - at ``path``."""
    path, db = _fresh_database(path)
    rng = random.Random(20261128)
    try:
        db.executescript("""
            CREATE TABLE tickets (
                id INTEGER PRIMARY KEY,
                customer_id INTEGER NOT NULL,
                opened_at TIMESTAMP NOT NULL,
                priority TEXT NOT NULL,
                status TEXT NOT NULL,
                satisfaction INTEGER
            );
        """)
        base = dt.datetime(2024, 1, 1)
        rows = []
        for i in range(1, tickets + 1):
            status = rng.choice(TICKET_STATUSES)
            score = rng.randrange(1, 6) if status == "closed" and rng.random() < 0.8 else None
            opened = base + dt.timedelta(minutes=rng.randrange(60 * 24 * 365))
            rows.append((i, rng.randrange(1, customers + 1), opened.isoformat(sep=" "), rng.choice(PRIORITIES),
                         status, score))
        db.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.commit()
    finally:
        db.close()
    return path


def write_lake_visits(path: str, *, customers: int = 500, days: int = 90) -> str:
    """The demo's data lake side: daily web visits per customer, as a Parquet file at ``path``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = random.Random(20261129)
    start = dt.date(2024, 1, 1)
    ids, day_values, views, countries = [], [], [], []
    for d in range(days):
        for customer in rng.sample(range(1, customers + 1), 60):
            ids.append(customer)
            day_values.append(start + dt.timedelta(days=d))
            views.append(rng.randrange(1, 40))
            countries.append(COUNTRIES[customer % len(COUNTRIES)])
    table = pa.table({"customer_id": pa.array(ids, pa.int64()), "day": pa.array(day_values, pa.date32()),
                      "page_views": pa.array(views, pa.int32()), "country": pa.array(countries, pa.string())})
    pq.write_table(table, path)
    return path
