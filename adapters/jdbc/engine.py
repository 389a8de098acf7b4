"""The generic JDBC engine, declared for the registry, packaging and docs (imports nothing heavy)."""

from __future__ import annotations

from adapters.sql.settings import CASING_MODE, KEY_RANGE_COLUMN, KEY_RANGE_SPLITS, default_scale
from connector.engines import Bundle, EngineDeclaration, SarApp, Setting

#: ``auto``: columnar through the Java helper when it is there or can be compiled, else value by value (logged);
#: ``columnar``: the helper or a configuration error; ``values``: one JPype call per value (the old path).
FETCH_MODES = ("auto", "columnar", "values")

ENGINE = EngineDeclaration(
    name="jdbc",
    adapter="adapters.jdbc.adapter:JdbcAdapter",
    source_type="jdbc",
    summary="any database with a JDBC driver (PostgreSQL and H2 tested), through JPype",
    example="jdbc://jdbc:postgresql://dbhost:5432/db?${jdbc/athena}",
    settings=(
        Setting("jdbc_driver_class", str, None, "Java class of the driver (default by subprotocol: postgresql, "
                "h2); required for other subprotocols"),
        Setting("jdbc_driver_jars", str, None, "the driver's jars separated by ':' (an entry may be a directory "
                "or a glob); default: the Debian jars of PostgreSQL or H2"),
        Setting("jdbc_jvm_options", str, None, "extra JVM options (space separated) when this process starts the "
                "JVM"),
        Setting("jdbc_fetch_size", int, 10_000, "rows per round trip", low=1),
        Setting("jdbc_fetch_mode", str, "auto", "how rows cross from the JVM: auto, columnar or values",
                choices=FETCH_MODES),
        default_scale(10),
        KEY_RANGE_SPLITS,
        KEY_RANGE_COLUMN,
        CASING_MODE,
    ),
    requirements=("JPype1>=1.5", "jaydebeapi>=1.2"),
    bundle=Bundle(
        "generic", ("aws", "jdbc"), ("adapters.sqlite.adapter", "adapters.jdbc.adapter"),
        "the framework, the SQL base and SQLite, plus JPype/jaydebeapi and the compiled Java helper for the jdbc "
        "adapter (which needs a JVM from a Lambda layer) - the base for adapter authors",
        ("adapters.jdbc.helper:bundle_files",),
        sar=SarApp(
            product="SQLite and JDBC sources",
            headline="Generic Amazon Athena Federated Query connector (athena-federation-py, Python): SQLite, the "
                     "jdbc adapter (with a Java runtime from a layer) and adapters built on pure-Python drivers.",
            about="The athena-federation-py framework with the SQLite adapter and the jdbc adapter: a base for "
                  "adapter authors and pure-Python drivers. The jdbc adapter needs a Java runtime and the JDBC "
                  "driver from a layer.",
            labels=("jdbc", "sqlite"),
            example="sqlite://jdbc:sqlite:/opt/data/my.db (a database file from a layer) or "
                    "jdbc://jdbc:postgresql://host:5432/db?${pg/athena}",
            connection_pattern="^[A-Za-z][A-Za-z0-9_]*://.+$",
            connection_form="<engine>://<jdbc-url>, e.g. sqlite://jdbc:sqlite:/opt/data/my.db",
            secret_examples=("jdbc/",),
            secret_optional=True,
            vpc_help="Needed when the source is in a VPC.",
            layers_help="Optional Lambda layer ARNs: a Java runtime and JDBC driver jars for the jdbc adapter, a "
                        "SQLite database file, or an adapter package (comma-separated, at most 5).")),
    docs="docs/jdbc.md",
)
