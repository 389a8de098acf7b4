"""Engine declarations: everything the framework knows about an adapter without importing it.

Each adapter package declares its engine once (``adapters/<engine>/engine.py`` for the built-ins, an
``afq.adapters`` entry point naming an ``EngineDeclaration`` for other packages): the adapter class as
``"module:Class"`` (nothing heavy is imported to answer a Ping), its ``source_type``, the extra and Lambda
bundle it ships in, its settings with their types, defaults and bounds, and its docs page. The registry,
``afq package``, the Makefile, the SAR and docs checks all read these declarations.

Settings are parsed here and nowhere else: ``read_settings`` validates every declared setting at once, a
``<catalog>_``-prefixed variable wins over the plain one (multiplexed catalogs can differ), and a bad value is
a ``ConfigurationError`` naming the variable that was read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import field

from connector.errors import ConfigurationError
from connector.lazy_dataclass import lazy_dataclass

SettingValue = int | float | str | bool | None
_KINDS = (int, float, str, bool)
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
#: Engine names as they appear before ``://`` in a connection string.
ENGINE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
#: A whole number as people write it in ASCII (``str.isdigit`` also takes superscripts and other scripts' digits).
_WHOLE = re.compile(r"-?[0-9]{1,30}")


@lazy_dataclass
class Setting:
    """One environment variable an adapter reads. ``kind`` is ``int``, ``float``, ``str`` or ``bool``; ``low``
    and ``high`` bound numbers (``low`` exclusive for a float: a timeout must be above 0); ``choices`` lists the
    values a ``str`` setting may take (compared in lower case, returned in lower case)."""

    name: str
    kind: type
    default: SettingValue
    help: str
    low: int | float | None = None
    high: int | float | None = None
    choices: tuple[str, ...] = ()
    #: Why a value outside ``choices`` is refused, appended to the error.
    refusal: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise TypeError(f"setting {self.name}: kind must be int, float, str or bool, not {self.kind!r}")

    def read(self, env: Mapping[str, str], catalog: str | None = None) -> SettingValue:
        """This setting for ``catalog``: ``<catalog>_<name>`` wins over ``<name>``; the default when both are
        unset or blank."""
        names = ([f"{catalog}_{self.name}"] if catalog else []) + [self.name]
        for variable in names:
            raw = (env.get(variable) or "").strip()
            if raw:
                return self.parse(raw, variable)
        return self.default

    def parse(self, raw: str, variable: str) -> SettingValue:
        """``raw`` (the stripped text of ``variable``) as this setting's type, or an error naming ``variable``."""
        if self.kind is int:
            return self._whole(raw, variable)
        if self.kind is float:
            return self._number(raw, variable)
        if self.kind is bool:
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise ConfigurationError(f"{variable}={raw!r} must be true or false")
        if self.choices and raw.lower() not in self.choices:
            reason = f" ({self.refusal})" if self.refusal else ""
            raise ConfigurationError(f"{variable}={raw!r} must be one of {', '.join(self.choices)}{reason}")
        return raw.lower() if self.choices else raw

    def _whole(self, raw: str, variable: str) -> int:
        low = 1 if self.low is None else int(self.low)
        high = None if self.high is None else int(self.high)
        if not _WHOLE.fullmatch(raw) or int(raw) < low or (high is not None and int(raw) > high):
            if high is not None:
                bounds = f"a whole number from {low} to {high}"
            else:
                bounds = "a positive whole number" if low == 1 else f"a whole number of at least {low}"
            raise ConfigurationError(f"{variable}={raw!r} must be {bounds}")
        return int(raw)

    def _number(self, raw: str, variable: str) -> float:
        try:
            if not raw.isascii():
                raise ValueError(raw)
            value = float(raw)
        except ValueError:
            raise ConfigurationError(f"{variable}={raw!r} must be a number") from None
        low = 0.0 if self.low is None else self.low
        if math.isnan(value) or value <= low or (self.high is not None and value > self.high):
            upper = f" and at most {self.high}" if self.high is not None else ""
            raise ConfigurationError(f"{variable}={raw!r} must be a number above {low}{upper}")
        return value


@lazy_dataclass
class SarApp:
    """What a bundle's SAM template (``sar/<bundle>.yaml``) says about its engine; everything else in the template
    is the same for every engine (``connector.packaging.sar_template`` renders it). Every field has a default
    derived from the engine's declaration, so a new engine gets a valid template without declaring one.

    ``product`` names the source in descriptions (default: the engine name, capitalised); ``headline`` opens the
    template's description and ``about`` is the SAR application's; ``labels`` are SAR search labels besides
    ``athena-federation`` and ``python`` (default: the engine name). ``example`` is the connection string the
    ``DefaultConnectionString`` help shows (default: the declaration's ``example``), ``connection_pattern`` what
    that parameter accepts (default ``^<engine>://.+$``) and ``connection_form`` how its error describes it
    (default: the example); ``secret_json`` is the secret the connection string names ('' for an engine that
    needs none). ``secret_examples`` are prefixes shown for ``SecretNamePrefix`` (default ``<engine>/`` and
    ``Athena<Product>``), ``secret_optional`` lets it be empty (then no secret is readable at all) and
    ``secret_help`` replaces its description. ``vpc_help`` says when the function needs a VPC; ``layers_help``,
    when set, adds a ``LayerArns`` parameter described by it."""

    product: str = ""
    headline: str = ""
    about: str = ""
    labels: tuple[str, ...] = ()
    example: str = ""
    connection_pattern: str = ""
    connection_form: str = ""
    secret_json: str = '{"username": "...", "password": "..."}'
    secret_examples: tuple[str, ...] = ()
    secret_optional: bool = False
    secret_help: str = ""
    vpc_help: str = ""
    layers_help: str = ""


@lazy_dataclass
class Bundle:
    """A Lambda bundle ``afq package`` builds: the extras it installs, the modules it must find in the source
    tree, and files built for it (``module:function`` names of functions returning ``{path in the zip: bytes}``).
    Its SAM template ``sar/<name>.yaml`` is rendered from ``sar`` (``make sar``)."""

    name: str
    extras: tuple[str, ...]
    modules: tuple[str, ...]
    summary: str
    artifacts: tuple[str, ...] = ()
    sar: SarApp = SarApp()


@lazy_dataclass
class EngineDeclaration:
    """An engine, declared once by its adapter package.

    ``requirements`` are the distributions of the package's extra (``pip install 'athena-federation-py[<extra>]'``,
    the name is the engine's unless ``extra`` says otherwise); ``docs`` the page describing it (relative to the
    repository, '' for none); ``example`` a connection string that parses (docs, SAR and tests use it)."""

    name: str
    adapter: str
    source_type: str
    summary: str
    example: str
    settings: tuple[Setting, ...] = ()
    requirements: tuple[str, ...] = ()
    extra: str | None = None
    bundle: Bundle | None = None
    docs: str = ""
    _by_name: dict[str, Setting] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not ENGINE_NAME.fullmatch(self.name):
            raise ValueError(f"engine name {self.name!r} must be lower-case letters, digits and _")
        if ":" not in self.adapter:
            raise ValueError(f"engine {self.name}: adapter must be 'module:Class', got {self.adapter!r}")
        by_name: dict[str, Setting] = {}
        for setting in self.settings:
            if setting.name in by_name:
                raise ValueError(f"engine {self.name}: setting {setting.name} is declared twice")
            by_name[setting.name] = setting
        object.__setattr__(self, "_by_name", by_name)

    @property
    def extra_name(self) -> str | None:
        """The pyproject extra that installs this engine's driver (None: it needs none)."""
        return self.extra or (self.name if self.requirements else None)

    def setting(self, name: str) -> Setting:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"engine {self.name} declares no setting {name!r}") from None

    def read_settings(self, env: Mapping[str, str], catalog: str | None = None) -> SettingValues:
        """Every declared setting from ``env``, validated: ``<catalog>_<name>`` wins over ``<name>``."""
        return SettingValues(self.name, {s.name: s.read(env, catalog) for s in self.settings})


class SettingValues:
    """An engine's parsed settings; the typed getters say what the adapter expects and fail loudly on a
    setting its declaration does not have."""

    __slots__ = ("_engine", "_values")

    @classmethod
    def none(cls) -> SettingValues:
        """The settings of an adapter without a declaration (written before declarations existed)."""
        return cls("(undeclared)", {})

    def __init__(self, engine: str, values: Mapping[str, SettingValue]) -> None:
        self._engine = engine
        self._values = dict(values)

    def _get(self, name: str, kind: type) -> SettingValue:
        if name not in self._values:
            raise KeyError(f"engine {self._engine} declares no setting {name!r}")
        value = self._values[name]
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"setting {name} of engine {self._engine} is {type(value).__name__}, not {kind.__name__}")
        return value

    def number(self, name: str) -> int:
        value = self._get(name, int)
        assert isinstance(value, int)  # a whole-number setting always has a default
        return value

    def optional_number(self, name: str) -> int | None:
        value = self._get(name, int)
        return value if isinstance(value, int) else None

    def seconds(self, name: str) -> float:
        value = self._get(name, float)
        assert isinstance(value, float)
        return value

    def text(self, name: str) -> str:
        value = self._get(name, str)
        return value if isinstance(value, str) else ""

    def flag(self, name: str) -> bool:
        return self._get(name, bool) is True

    def __repr__(self) -> str:
        return f"SettingValues({self._engine}, {sorted(self._values)})"
