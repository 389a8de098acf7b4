"""One engine declaration per adapter package (``adapters/<engine>/engine.py``), read by the registry, packaging,
pyproject extras and docs; settings typed, validated once, with ``<catalog>_`` prefixes for every adapter."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import adapters
from connector import registry
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.engines import EngineDeclaration, Setting
from connector.errors import ConfigurationError
from connector.packaging import sar_template
from connector.packaging.requirements import adapter_bundle, bundles
from connector.registry import adapter_class, builtin_engines, declaration, known_engines

REPO = Path(__file__).resolve().parents[2]
ENGINES = builtin_engines()

#: For each engine: a setting, two valid values (plain, catalog-prefixed) and how the adapter exposes it.
PREFIXED: dict[str, tuple[str, str, str, Any]] = {
    "sqlite": ("sqlite_rows_per_split", "100", "7", lambda a: a.rows_per_split),
    "jdbc": ("jdbc_fetch_size", "100", "7", lambda a: a.fetch_size),
    "oracle": ("oracle_splits", "100", "7", lambda a: a.split_count),
    "snowflake": ("snowflake_max_splits", "100", "7", lambda a: a.max_splits),
    "teradata": ("teradata_split_count", "100", "7", lambda a: a.split_count),
}


def make(engine: str, env: dict[str, str], catalog: str = "sales") -> Any:
    spec = parse_connection_string(ENGINES[engine].example, catalog)
    return adapter_class(engine)(spec, Settings(env=env))


def test_every_engine_is_declared_by_its_package_and_tested_here() -> None:
    assert set(ENGINES) == set(PREFIXED) == {"sqlite", "jdbc", "oracle", "snowflake", "teradata"}
    for name, declared in ENGINES.items():
        assert declared.adapter.startswith(f"adapters.{name}.")
        assert (REPO / declared.docs).is_file()
        text = (REPO / declared.docs).read_text()
        assert not [s.name for s in declared.settings if not re.search(f"`{s.name}[`=]", text)], "not in docs"


def test_the_readme_engine_table_is_the_declared_engines() -> None:
    row = r"^\| `(\w+)` \| `[^`]+` \| (?:\[`([^`]+)`\]\([^)]*\)|this README) \|"
    rows = re.findall(row, (REPO / "README.md").read_text(), flags=re.MULTILINE)
    assert {engine: page or "README.md" for engine, page in rows} == {n: d.docs for n, d in ENGINES.items()}


@pytest.mark.parametrize("engine", sorted(PREFIXED))
def test_a_catalog_prefixed_setting_wins_over_the_plain_one(engine: str) -> None:
    setting, plain, prefixed, read = PREFIXED[engine]
    assert read(make(engine, {setting: plain})) == int(plain)
    assert read(make(engine, {setting: plain, f"sales_{setting}": prefixed})) == int(prefixed)
    assert read(make(engine, {setting: plain, f"other_{setting}": prefixed})) == int(plain)  # another catalog's
    with pytest.raises(ConfigurationError, match=f"sales_{setting}='many' must be a (positive )?whole number"):
        make(engine, {setting: plain, f"sales_{setting}": "many"})


@pytest.mark.parametrize("engine", sorted(PREFIXED))
def test_casing_mode_is_validated_and_prefixed_for_every_sql_adapter(engine: str) -> None:
    default = make(engine, {}).casing
    assert make(engine, {"sales_casing_mode": "none"}).casing.value == "none"
    assert make(engine, {"other_casing_mode": "none"}).casing == default
    with pytest.raises(ConfigurationError, match=r"sales_casing_mode='sideways' must be one of none, lower"):
        make(engine, {"sales_casing_mode": "sideways"})


def test_settings_parse_by_type_with_errors_naming_the_variable() -> None:
    timeout = Setting("t", float, 10.0, "", high=60)
    assert timeout.read({"c_t": " 2.5 "}, "c") == 2.5 and timeout.read({"t": ""}) == 10.0
    for raw in ("0", "-1", "nan", "61", "soon", "\u0663"):
        with pytest.raises(ConfigurationError, match=f"t={raw!r}"):
            timeout.read({"t": raw})
    count = Setting("n", int, 4, "", low=0, high=9)
    assert count.read({"n": "0"}) == 0
    for raw in ("10", "-1", "--1", "1.5", "x", "\u00b2", "\u0663", "1" * 40):  # superscripts, other scripts, no end
        with pytest.raises(ConfigurationError, match=re.escape(f"n={raw!r} must be a whole number from 0 to 9")):
            count.read({"n": raw})
    flag = Setting("f", bool, False, "")
    assert flag.read({"f": "Yes"}) is True and flag.read({"f": "off"}) is False
    with pytest.raises(ConfigurationError, match="f='maybe' must be true or false"):
        flag.read({"f": "maybe"})
    with pytest.raises(TypeError):
        Setting("x", list, None, "")
    with pytest.raises(ValueError, match="declared twice"):
        EngineDeclaration("e", "m:C", "e", "", "e://", settings=(flag, flag))


def test_pyproject_extras_are_the_declared_requirements() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    for declared in ENGINES.values():
        if declared.extra_name is None:
            continue
        assert extras[declared.extra_name] == ["athena-federation-py[aws]", *declared.requirements], declared.name
        assert declared.extra_name in extras["all"][0]
        assert declared.bundle is not None and declared.extra_name in declared.bundle.extras


def test_every_declared_bundle_has_a_sar_template_and_no_other_exists() -> None:
    assert {p.stem for p in (REPO / "sar").glob("*.yaml")} == set(bundles())


def test_the_checked_in_sar_templates_are_the_declarations_rendered() -> None:
    """``sar/<bundle>.yaml`` is generated (``make sar``); an edit by hand or a declaration changed without
    re-rendering fails here."""
    assert sar_template.stale() == []
    assert sar_template.main(["--check", str(REPO / "sar")]) == 0


def test_the_sar_check_names_a_changed_missing_or_undeclared_template(tmp_path: Path) -> None:
    for name, text in sar_template.render_all().items():
        (tmp_path / f"{name}.yaml").write_text(text)
    (tmp_path / "oracle.yaml").write_text((tmp_path / "oracle.yaml").read_text().replace("MemorySize", "Memory"))
    (tmp_path / "teradata.yaml").unlink()
    (tmp_path / "mysql.yaml").write_text("{}")
    assert sar_template.stale(tmp_path) == ["mysql.yaml is not declared by any engine",
                                            "oracle.yaml differs from its rendering", "teradata.yaml is missing"]
    assert sar_template.main(["--check", str(tmp_path)]) == 1
    assert sorted(p.name for p in sar_template.write_all(tmp_path)) == ["oracle.yaml", "teradata.yaml"]
    assert sar_template.stale(tmp_path) == ["mysql.yaml is not declared by any engine"]


@given(text=st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufffe\uffff"),
                    max_size=300),
       indent=st.integers(2, 10))
def test_declared_text_reads_back_unchanged_from_the_template(text: str, indent: int) -> None:
    """Whatever a declaration says (colons, '#', quotes, braces, long words) is one YAML string in the template:
    folded descriptions come back with their whitespace collapsed, inline values exactly."""
    import yaml

    folded = sar_template._folded(text, indent)
    assert yaml.safe_load(f"k: {folded}") == {"k": " ".join(text.split())}
    if text.strip():
        assert yaml.safe_load(f"k: {sar_template._scalar(text)}") == {"k": text}


def test_a_declaration_sar_would_refuse_is_refused_when_rendered() -> None:
    from connector.engines import Bundle, SarApp

    def toy(**sar: Any) -> EngineDeclaration:
        return EngineDeclaration("toy", "m:C", "toy", "", "toy://x",
                                 bundle=Bundle("toy", (), (), "", sar=SarApp(**sar)))

    with pytest.raises(ValueError, match="SAR allows 10 labels, not 11"):
        sar_template.render(toy(labels=tuple(f"l{i}" for i in range(9))))
    with pytest.raises(ValueError, match="may hold letters, digits and"):
        sar_template.render(toy(labels=("two words",)))
    with pytest.raises(ValueError, match="at most 256 characters"):
        sar_template.render(toy(about="x " * 129))
    from cfnlint.decode.cfn_yaml import loads

    template = loads(sar_template.render(toy(product="Toy ${AWS::Region}")))
    catalog = template["Resources"]["DataCatalog"]["Properties"]["Description"]
    assert catalog == {"Fn::Sub": "Toy ${!AWS::Region} through the ${LambdaFunctionName} connector"}


@pytest.mark.parametrize("text", ["a\x00b", "\ufffe", "esc\x1b", "next\x85line", "a\u2028b"])
def test_text_yaml_cannot_carry_is_refused_not_written(text: str) -> None:
    for write in (sar_template._scalar, lambda t: sar_template._folded(t, 6)):
        with pytest.raises(ValueError, match="cannot be written in a YAML template"):
            write(text)


def test_a_new_engine_package_is_all_it_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A throwaway ``adapters/toy/`` package (in a temp dir joined to the ``adapters`` package's path): the
    registry, packaging, settings validation and the SAR renderer (a cfn-lint clean template) see it with no edit
    anywhere else."""
    from cfnlint.api import lint
    from cfnlint.decode.cfn_yaml import loads

    package = tmp_path / "adapters" / "toy"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A throwaway engine."""\n')
    (package / "engine.py").write_text(
        "from adapters.sqlite.engine import ENGINE as SQLITE\n"
        "from connector.engines import Bundle, EngineDeclaration, Setting\n"
        "ENGINE = EngineDeclaration(name='toy', adapter='adapters.toy.adapter:ToyAdapter', source_type='toy',\n"
        "    summary='a toy', example='toy://jdbc:sqlite:/tmp/toy.db', docs='README.md',\n"
        "    settings=(*SQLITE.settings, Setting('toy_rows', int, 5, 'rows', low=1, high=10)),\n"
        "    bundle=Bundle('toy', ('aws',), ('adapters.toy.adapter',), 'the toy'))\n")
    (package / "adapter.py").write_text(
        "from adapters.sqlite.adapter import SqliteAdapter\n"
        "from adapters.toy.engine import ENGINE\n"
        "class ToyAdapter(SqliteAdapter):\n"
        "    source_type = 'toy'\n"
        "    engine = ENGINE\n"
        "    def __init__(self, spec, settings):\n"
        "        super().__init__(spec, settings)\n"
        "        self.rows = self.options.number('toy_rows')\n")
    monkeypatch.setattr(adapters, "__path__", [*adapters.__path__, str(tmp_path / "adapters")])
    monkeypatch.delitem(sys.modules, "adapters.toy", raising=False)
    registry._builtin.cache_clear()
    try:
        assert "toy" in known_engines() and registry.source_type_of("toy") == "toy"
        assert declaration("TOY").setting("toy_rows").default == 5
        assert adapter_bundle("toy").modules == ("adapters.toy.adapter",) and "toy" in bundles()
        spec = parse_connection_string("toy://jdbc:sqlite:/tmp/toy.db", "sales")
        toy = adapter_class("toy")(spec, Settings(env={"toy_rows": "3", "sales_toy_rows": "9"}))
        assert toy.rows == 9
        with pytest.raises(ConfigurationError, match="toy_rows='11' must be a whole number from 1 to 10"):
            adapter_class("toy")(spec, Settings(env={"toy_rows": "11"}))
        assert sar_template.stale() == ["toy.yaml is missing"]  # until `make sar` writes it
        template = sar_template.render(declaration("toy"))
        assert not [str(m) for m in lint(template)], "the toy's SAM template is not cfn-lint clean"
        parsed = loads(template)
        app = parsed["Metadata"]["AWS::ServerlessRepo::Application"]
        assert app["Name"] == "athena-federation-py-toy" and app["Labels"] == ["athena-federation", "toy", "python"]
        connection = parsed["Parameters"]["DefaultConnectionString"]
        assert re.fullmatch(connection["AllowedPattern"], "toy://jdbc:sqlite:/tmp/toy.db")
        assert not re.fullmatch(connection["AllowedPattern"], "sqlite://jdbc:sqlite:/tmp/toy.db")
        assert "toy://jdbc:sqlite:/tmp/toy.db" in connection["Description"]
        assert "Default" not in parsed["Parameters"]["SecretNamePrefix"]  # a secret is needed unless declared
        assert parsed["Resources"]["ConnectorFunction"]["Properties"]["CodeUri"] == "../dist/afq-toy-py312-x86_64.zip"
        oracle = loads(sar_template.render(declaration("oracle")))
        assert parsed["Resources"]["ConnectorRole"] == oracle["Resources"]["ConnectorRole"]
        assert set(parsed["Parameters"]) == set(oracle["Parameters"])
    finally:
        registry._builtin.cache_clear()
        for name in [m for m in sys.modules if m.startswith("adapters.toy")]:
            del sys.modules[name]
