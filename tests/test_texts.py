"""The one text lookup (``bot/texts.py``) and every key the code uses with it.

The code of ``bot/``, ``actions/`` and ``connectors/`` is scanned with ``ast`` for calls of the
lookup functions (``text``, ``pick``, ``text_list``, ``lookup``) and of *wrappers* around them
(a function, lambda or class with a parameter named ``key`` that passes it on, e.g.
``incidents.t``, ``channel_common.error``, ``rest.BadRequest``). A call with a literal source
and key must resolve to a text whose placeholders are exactly the keyword arguments passed
(unless the call also passes ``**values``). A call whose key is built at run time must be listed
in ``DYNAMIC`` below with the values it can take; an unlisted one fails the test until it is
covered, and so does a listed one that no longer exists.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

import connectors.channel_common  # noqa: F401  (registers the "channels" source)
import connectors.texts  # noqa: F401  (registers the "messages" source)
from bot import clients, drafts, escalation, knowledge, playbooks, texts, warning_signs
from bot.roleplay import engine
from bot.roleplay.scenarios import DIFFICULTY_LEVELS, default_scenarios
from bot.rubric.engine import CRITERIA as RUBRIC_CRITERIA

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("bot", "actions", "connectors")
PRIMITIVES = {f"bot.texts.{name}": name for name in ("text", "pick", "text_list", "lookup")}


def _scenario_values() -> set[str]:
    scenario = next(iter(default_scenarios().values()))
    return set(engine._values(scenario, {"difficulty": 1}))


#: ``**name`` / ``**name(…)`` arguments (file, name) whose keys are known: every text of the
#: call may use them (or not)
AMBIENT: dict[tuple[str, str], Callable[[], set[str]]] = {
    ("bot/incidents.py", "forms"): lambda: set(clients.FORM_KEYS),  # the client's forms
    ("bot/incidents.py", "forms(…)"): lambda: set(clients.FORM_KEYS),
    ("bot/playbooks.py", "names"): lambda: set(playbooks._names(None)),  # the client's names
    ("bot/playbooks.py", "_names"): lambda: set(playbooks._names(None)),
    ("bot/roleplay/engine.py", "values"): _scenario_values,  # scenario and level
    ("bot/roleplay/engine.py", "_values"): _scenario_values,
}


# --------------------------------------------------------------------------- the lookup itself
@pytest.fixture
def source(tmp_path):
    path = tmp_path / "sample.yml"
    path.write_text(
        "greeting: 'Hallo {name}!'\n"
        "plain: 'Ohne Platzhalter, mit {{Klammern}}'\n"
        "score: 'Gesamt: {overall:.0f} von 100'\n"
        "levels: {1: leicht, 2: schwer}\n"
        "choices: ['A {x}', 'B {x}', 'C {x}']\n"
        "nested: {deeper: {text: 'tief'}}\n"
        "broken: 'Hallo {0}'\n",
        encoding="utf-8",
    )
    texts.register("sample_test", path)
    yield path
    texts.SOURCES.pop("sample_test", None)
    texts.load.cache_clear()


def test_text_fills_placeholders(source):
    assert texts.text("sample_test", "greeting", name="Anna") == "Hallo Anna!"
    assert texts.text("sample_test", "plain") == "Ohne Platzhalter, mit {Klammern}"
    assert texts.text("sample_test", "score", overall=87.4) == "Gesamt: 87 von 100"
    assert texts.text("sample_test", "levels.2") == "schwer"  # integer mapping keys
    assert texts.text("sample_test", "choices.1", x="!") == "B !"  # list items by index
    assert texts.text("sample_test", "nested.deeper.text") == "tief"
    assert texts.text("sample_test", "greeting", name="Anna", unused=None) == "Hallo Anna!"


def test_a_value_is_never_read_as_a_template(source):
    assert texts.text("sample_test", "greeting", name="{x}") == "Hallo {x}!"
    assert texts.text("sample_test", "greeting", name="{name.__class__}") == (
        "Hallo {name.__class__}!"
    )
    assert texts.text("sample_test", "greeting", name="{0} {}") == "Hallo {0} {}!"


def test_missing_key_raises_naming_file_key_and_part(source):
    with pytest.raises(texts.MissingText) as caught:
        texts.text("sample_test", "nested.deeper.nothing")
    message = str(caught.value)
    assert "sample_test:nested.deeper.nothing" in message
    assert str(source) in message and "'nothing'" in message and "nested.deeper" in message
    assert isinstance(caught.value, KeyError)
    assert caught.value.missing and caught.value.path == source.resolve()
    with pytest.raises(texts.MissingText):
        texts.text("sample_test", "choices.7", x="")
    with pytest.raises(texts.MissingText, match="no text source"):
        texts.text("no_such_source", "greeting")


def test_missing_placeholder_value_raises(source):
    with pytest.raises(texts.MissingText, match=r"sample_test:greeting .*no value for \{name\}"):
        texts.text("sample_test", "greeting")
    with pytest.raises(texts.MissingText, match=r"\{name\}"):
        texts.text("sample_test", "greeting", name=None)
    with pytest.raises(texts.MissingText, match=r"\{x\}"):
        texts.pick("sample_test", "choices", random.Random(1))
    with pytest.raises(texts.MissingText, match=r"choices\.0"):
        texts.text_list("sample_test", "choices")


def test_not_a_text_and_bad_placeholders_raise(source):
    with pytest.raises(texts.MissingText, match="not a text"):
        texts.text("sample_test", "nested")
    with pytest.raises(texts.MissingText, match="not a plain name"):
        texts.text("sample_test", "broken")
    with pytest.raises(texts.MissingText, match="not a list"):
        texts.text_list("sample_test", "greeting", name="x")


def test_pick_draws_like_random_choice(source):
    for seed in range(20):
        expected = random.Random(seed).choice(["A", "B", "C"])
        assert texts.pick("sample_test", "choices", random.Random(seed), x="") == expected + " "


def test_register_refuses_a_second_file_for_a_name(source, tmp_path):
    texts.register("sample_test", source)  # the same file again is fine
    with pytest.raises(ValueError):
        texts.register("sample_test", tmp_path / "other.yml")


def test_sources_are_no_rasa_responses():
    for name, path in texts.SOURCES.items():
        assert path.name != "domain.yml", name
        assert path.exists(), (name, path)
    assert "import rasa" not in (ROOT / "bot" / "texts.py").read_text(encoding="utf-8")


def _strings(node: Any, path: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _strings(v, f"{path}.{i}")


@pytest.mark.parametrize("name", sorted(texts.SOURCES))
def test_every_string_of_every_source_is_a_valid_template(name):
    for path, value in _strings(texts.load(name)):
        try:
            texts.placeholders(value)
        except ValueError as exc:
            pytest.fail(f"{name}:{path}: {exc}")


# --------------------------------------------------------------------------- the scan
@dataclass
class Site:
    """One use of the lookup: where, which function, source and key, the values passed."""

    file: str
    line: int
    primitive: str
    source: list  # parts: str literals or ast expressions
    key: list
    keywords: set[str] = field(default_factory=set)
    open: bool = False  # **values of unknown content passed as well
    ambient: set[str] = field(default_factory=set)  # **names of known keys, used or not
    call: tuple = ()  # the call in the code (alternatives of one key share it)

    @staticmethod
    def shape(parts: list) -> str:
        """The parts with every run-time part as ``{}``."""
        return "".join(p if isinstance(p, str) else "{}" for p in parts)

    @staticmethod
    def pattern(parts: list) -> str:
        return "".join(p if isinstance(p, str) else "{" + ast.unparse(p) + "}" for p in parts)

    @property
    def literal(self) -> bool:
        return all(isinstance(p, str) for p in self.source + self.key)

    def describe(self) -> str:
        source, key = self.pattern(self.source), self.pattern(self.key)
        return f"{self.file}:{self.line} {self.primitive}({source!r}, {key!r})"


@dataclass
class Wrapper:
    params: list[str]
    defaults: dict[str, ast.expr]
    kwarg: str | None
    call: ast.Call
    module: "Module"
    scope: Any
    closure: dict = field(default_factory=dict)  # names bound by a factory that made it


class Module:
    def __init__(self, path: Path):
        self.path = path
        self.rel = path.relative_to(ROOT).as_posix()
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        self.is_package = parts[-1] == "__init__"
        if self.is_package:
            parts = parts[:-1]
        self.name = ".".join(parts)
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.aliases: dict[str, str] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        package = self.name if self.is_package else self.name.rpartition(".")[0]
        for node in self.tree.body:
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = package.split(".")
                    pkg = pkg[: len(pkg) - node.level + 1]
                    base = ".".join(pkg + ([base] if base else []))
                for a in node.names:
                    self.aliases[a.asname or a.name] = f"{base}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.aliases[node.name] = f"{self.name}.{node.name}"

    def scope_of(self, node: ast.AST) -> ast.AST | None:
        """The innermost function enclosing ``node`` (None at module level)."""
        cur = self.parents.get(node)
        while cur is not None:
            if isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return cur
            cur = self.parents.get(cur)
        return None


class Scanner:
    def __init__(self) -> None:
        self.modules = [
            Module(p)
            for d in SCANNED
            for p in sorted((ROOT / d).rglob("*.py"))
            if p != ROOT / "bot" / "texts.py" and "migrations" not in p.parts
        ]
        self.by_name = {m.name: m for m in self.modules}
        self.wrappers: dict[Any, Wrapper] = {}  # "mod.func" or (scope node, name)
        self.wrapper_calls: set[int] = set()
        self.factories: dict[str, tuple[list[str], Wrapper]] = {}
        self._find_wrappers()
        self._find_factories()

    # ----------------------------------------------------------------- resolution of names
    def qualified(self, module: Module, func: ast.expr) -> str | None:
        if isinstance(func, ast.Name):
            return module.aliases.get(func.id)
        if isinstance(func, ast.Attribute):
            base = self.qualified(module, func.value)
            return f"{base}.{func.attr}" if base else None
        return None

    def target(self, module: Module, call: ast.Call) -> str | Wrapper | None:
        """A primitive's name, a wrapper, or None for any other call."""
        if isinstance(call.func, ast.Name):  # a wrapper local to an enclosing function
            scope = module.scope_of(call)
            while scope is not None:
                found = self.wrappers.get((scope, call.func.id)) or self._made(
                    module, scope, call.func.id
                )
                if found:
                    return found
                scope = module.scope_of(scope)
        name = self.qualified(module, call.func)
        if name is None:
            return None
        if name in PRIMITIVES:
            return PRIMITIVES[name]
        return self.wrappers.get(name)

    def _made(self, module: Module, scope: ast.AST, name: str) -> Wrapper | None:
        """A wrapper returned by a factory: ``t = _case_texts("our_fault", names)``."""
        for node in ast.walk(scope):
            if not (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
                and module.scope_of(node) is scope
            ):
                continue
            factory = self.factories.get(self.qualified(module, node.value.func) or "")
            if factory is None:
                continue
            params, made = factory
            closure = dict(made.closure)
            closure.update(zip(params, node.value.args, strict=False))
            return Wrapper(**{**made.__dict__, "closure": closure})
        return None

    def _find_factories(self) -> None:
        """Module-level functions that define a wrapper and return it."""
        for module in self.modules:
            for fn in module.tree.body:
                if not isinstance(fn, ast.FunctionDef):
                    continue
                for stmt in fn.body:
                    if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Name):
                        made = self.wrappers.get((fn, stmt.value.id))
                        if made:
                            params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
                            self.factories[f"{module.name}.{fn.name}"] = (params, made)

    # ----------------------------------------------------------------- wrappers
    def _functions(self, module: Module):
        """(registration name, params, defaults, **kwarg, body node) of every function-like."""
        for node in ast.walk(module.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                parent = module.parents.get(node)
                args = node.args
                params = [a.arg for a in args.posonlyargs + args.args]
                if isinstance(parent, ast.ClassDef):
                    if node.name != "__init__":
                        continue
                    reg = f"{module.name}.{parent.name}"
                    params = params[1:]
                elif isinstance(parent, ast.Module):
                    reg = f"{module.name}.{node.name}"
                else:
                    reg = (module.scope_of(node), node.name)
                yield reg, params, args, node
            elif isinstance(node, ast.Lambda):
                parent = module.parents.get(node)
                if isinstance(parent, ast.Assign) and isinstance(parent.targets[0], ast.Name):
                    params = [a.arg for a in node.args.posonlyargs + node.args.args]
                    reg = (module.scope_of(parent), parent.targets[0].id)
                    if module.scope_of(parent) is None:
                        reg = f"{module.name}.{parent.targets[0].id}"
                    yield reg, params, node.args, node

    def _find_wrappers(self) -> None:
        changed = True
        while changed:
            changed = False
            for module in self.modules:
                for reg, params, args, node in self._functions(module):
                    if reg in self.wrappers or "key" not in params:
                        continue
                    calls = [
                        c
                        for c in ast.walk(node)
                        if isinstance(c, ast.Call)
                        and module.scope_of(c) is node
                        and self._passes_key_on(module, c)
                    ]
                    if not calls:
                        continue
                    assert len(calls) == 1, f"{module.rel}: {reg} passes `key` on more than once"
                    positional = params
                    defaults = dict(
                        zip(
                            positional[len(positional) - len(args.defaults) :],
                            args.defaults,
                            strict=True,
                        )
                    )
                    self.wrappers[reg] = Wrapper(
                        params=params,
                        defaults=defaults,
                        kwarg=args.kwarg.arg if args.kwarg else None,
                        call=calls[0],
                        module=module,
                        scope=node,
                    )
                    self.wrapper_calls.add(id(calls[0]))
                    changed = True

    def _passes_key_on(self, module: Module, call: ast.Call) -> bool:
        """Whether ``call`` looks a text up by a parameter ``key`` (whole or inside an f-string)."""
        target = self.target(module, call)
        if target is None:
            return False
        position = 1 if isinstance(target, str) else target.params.index("key")
        arg = call.args[position] if position < len(call.args) else None
        arg = next((k.value for k in call.keywords if k.arg == "key"), arg)
        if isinstance(arg, ast.Name):
            return arg.id == "key"
        return isinstance(arg, ast.JoinedStr) and any(
            isinstance(v, ast.FormattedValue)
            and isinstance(v.value, ast.Name)
            and v.value.id == "key"
            for v in arg.values
        )

    # ----------------------------------------------------------------- call sites
    def sites(self) -> list[Site]:
        out: list[Site] = []
        for module in self.modules:
            for call in ast.walk(module.tree):
                if not isinstance(call, ast.Call) or id(call) in self.wrapper_calls:
                    continue
                if self.target(module, call) is None:
                    continue
                env = _local_literals(module, call)
                for site in self._expand(module, call, env, call.lineno, module.rel):
                    site.call = (module.rel, call.lineno, call.col_offset)
                    out.append(site)
        return out

    def _expand(self, module: Module, call: ast.Call, env: dict, line: int, rel: str) -> list:
        """Resolve ``call`` (its names bound by ``env``) to primitive calls."""
        target = self.target(module, call)
        args = [_subst(a, env) for a in call.args]
        keywords = {k.arg: _subst(k.value, env) for k in call.keywords if k.arg}
        stars = [k.value for k in call.keywords if k.arg is None]
        extra_kw: set[str] = set()
        ambient: set[str] = set(env.get(("**ambient",), set()))
        is_open = False
        for star in stars:  # **values: the caller's keywords (env) or unknown content
            name = star.id if isinstance(star, ast.Name) else None
            if isinstance(star, ast.Call) and isinstance(star.func, ast.Name):
                name = star.func.id
            bound = env.get(("**", name))
            if bound is not None:
                extra_kw |= bound[0]
                is_open |= bound[1]
            elif (module.rel, name) in AMBIENT:
                ambient |= AMBIENT[(module.rel, name)]()
            else:
                is_open = True
        extra_kw -= ambient
        if isinstance(target, str):
            source, key = args[0], args[1]
            sites = []
            for src in _alternatives(source):
                for k in _alternatives(key):
                    kw = set(keywords) | extra_kw
                    sites.append(Site(rel, line, target, src, k, kw, is_open, ambient))
            return sites
        w: Wrapper = target
        inner_env: dict = dict(w.closure)
        for name, value in zip(w.params, args, strict=False):
            inner_env[name] = value
        for name, value in keywords.items():
            if name in w.params:
                inner_env[name] = value
        for name, value in w.defaults.items():
            inner_env.setdefault(name, value)
        if w.kwarg:
            passed = {n for n in keywords if n not in w.params} | extra_kw
            inner_env[("**", w.kwarg)] = (passed, is_open)
        if ambient:
            inner_env[("**ambient",)] = ambient
        return self._expand(w.module, w.call, inner_env, line, rel)


def _local_literals(module: Module, call: ast.Call) -> dict:
    """Local names in the call's arguments that only ever hold literal texts.

    E.g. ``key = "a" if … else "b"``; returned as an environment for :func:`_subst`.
    """
    scope = module.scope_of(call) or module.tree
    env = {}
    names = {n.id for a in call.args for n in ast.walk(a) if isinstance(n, ast.Name)}
    for name in names:
        values = [
            a.value
            for a in ast.walk(scope)
            if isinstance(a, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in a.targets)
            and (module.scope_of(a) or module.tree) is scope
        ]
        if values and all(
            all(isinstance(p, str) for alt in _alternatives(v) for p in alt) for v in values
        ):
            chain = values[-1]
            for v in values[:-1]:
                chain = ast.IfExp(ast.Constant(True), v, chain)
            env[name] = chain
    return env


def _subst(node: ast.expr, env: dict) -> ast.expr:
    """``node`` with the wrapper parameters in ``env`` replaced by the caller's arguments."""
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.JoinedStr):
        values = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue) and not v.format_spec and v.conversion == -1:
                values.append(ast.FormattedValue(_subst(v.value, env), -1, None))
            else:
                values.append(v)
        return ast.JoinedStr(values)
    if isinstance(node, ast.IfExp):
        return ast.IfExp(node.test, _subst(node.body, env), _subst(node.orelse, env))
    return node


def _alternatives(node: ast.expr) -> list[list]:
    """The possible values of a key expression, each as a list of parts (str or expression)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [[node.value]]
    if isinstance(node, ast.IfExp):
        return _alternatives(node.body) + _alternatives(node.orelse)
    if isinstance(node, ast.JoinedStr):
        combos: list[list] = [[]]
        for v in node.values:
            if isinstance(v, ast.Constant):
                options = [[v.value]]
            elif isinstance(v, ast.FormattedValue) and not v.format_spec and v.conversion == -1:
                options = _alternatives(v.value)
            else:
                options = [[v]]
            combos = [c + o for c in combos for o in options]
        return [_merge(c) for c in combos]
    return [[node]]


def _merge(parts: list) -> list:
    out: list = []
    for p in parts:
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        else:
            out.append(p)
    return out


# --------------------------------------------------------------------------- checks
def _check(
    primitive: str,
    source: str,
    keys: Iterable[str],
    keywords: set,
    is_open: bool,
    ambient: frozenset | set = frozenset(),
) -> list:
    """Problems of the lookups one call can make (empty when all resolve).

    Each text's placeholders must have a value among ``keywords`` (or ``ambient``, values
    every text of a group gets), and every keyword must be used by at least one of them.
    With ``is_open`` (``**values`` of unknown content) only the second is checked.
    """
    problems: list[str] = []
    used: set[str] = set()
    for key in keys:
        try:
            node = texts.lookup(source, key)
        except texts.MissingText as exc:
            problems.append(str(exc))
            continue
        if primitive == "lookup":
            continue
        if primitive == "text":
            items = [(key, node)]
        elif isinstance(node, list) and node:
            items = [(f"{key}.{i}", item) for i, item in enumerate(node)]
        else:
            problems.append(f"{source}:{key} is not a non-empty list")
            continue
        for where, item in items:
            if not isinstance(item, str):
                problems.append(f"{source}:{where} is not a text")
                continue
            wanted = set(texts.placeholders(item))
            used |= wanted
            if not is_open and not wanted <= keywords | ambient:
                problems.append(f"{source}:{where} needs {sorted(wanted - keywords - ambient)}")
    if primitive != "lookup" and not problems and not keywords <= used:
        problems.append(f"values {sorted(keywords - used)} are passed but never used")
    return problems


SCAN = Scanner()
SITES = SCAN.sites()


def _calls(sites: Iterable[Site]) -> dict[tuple, list[Site]]:
    out: dict[tuple, list[Site]] = {}
    for site in sites:
        out.setdefault(site.call, []).append(site)
    return out


LITERAL_CALLS = {c: group for c, group in _calls(SITES).items() if all(s.literal for s in group)}


def test_the_scan_finds_the_known_wrappers_and_sites():
    names = {w for w in SCAN.wrappers if isinstance(w, str)}
    for expected in (
        "bot.incidents.t",
        "actions.history_common.t",
        "connectors.channel_common.text",
        "connectors.channel_common.error",
        "connectors.texts.reply",
        "connectors.texts.error",
        "connectors.rest.BadRequest",
        "connectors.teams._error",
    ):
        assert expected in names, expected
    assert sum(1 for w in SCAN.wrappers if not isinstance(w, str)) >= 1  # playbooks' t
    assert len(SITES) > 250
    assert {s.primitive for s in SITES} == {"text", "pick", "text_list", "lookup"}


#: bare names that are (or wrap) the text lookup wherever they are called
LOOKUP_NAMES = {"t", "text", "_text", "pick", "text_list", "lookup", "reply", "_error", "error"}


def test_every_call_of_a_lookup_name_is_understood():
    """A call the scan cannot resolve would escape the checks (e.g. a new kind of wrapper)."""
    unresolved = [
        f"{m.rel}:{c.lineno} {c.func.id}()"
        for m in SCAN.modules
        for c in ast.walk(m.tree)
        if isinstance(c, ast.Call)
        and isinstance(c.func, ast.Name)
        and c.func.id in LOOKUP_NAMES
        and SCAN.target(m, c) is None
    ]
    assert not unresolved


@pytest.mark.parametrize("call", sorted(LITERAL_CALLS), ids=lambda c: f"{c[0]}:{c[1]}")
def test_every_literal_key_exists_with_its_placeholders(call):
    group = LITERAL_CALLS[call]
    by_source: dict[tuple, list[str]] = {}
    for s in group:
        by_source.setdefault((s.primitive, s.source[0]), []).append(s.key[0])
    problems = []
    for (primitive, source), keys in by_source.items():
        first = group[0]
        problems += _check(primitive, source, keys, first.keywords, first.open, first.ambient)
    assert not problems, f"{group[0].describe()}: {problems}"


# --------------------------------------------------------------------------- dynamic keys
def _keys_of(source: str, key: str) -> list[str]:
    node = texts.lookup(source, key)
    return [str(k) for k in (node if isinstance(node, dict) else range(len(node)))]


def _under(source: str, key: str) -> Callable[[], list[str]]:
    """Every entry of the mapping or list at ``key`` (the code may ask for each of them)."""
    return lambda: [f"{key}.{k}" for k in _keys_of(source, key)]


def _each(template: str, values: Callable[[], Iterable[Any]]) -> Callable[[], list[str]]:
    return lambda: [template.format(v) for v in values()]


def _choices(case: str, slot: str) -> list[str]:
    return list(playbooks.playbooks()[case].question(slot).choices)


def _ladders() -> list[str]:
    return list(escalation.ladders())


def _steps() -> list[str]:
    return [
        f"steps.{k}.{s.key}" for k, ladder in escalation.ladders().items() for s in ladder.steps
    ]


def _tree(rel: str) -> ast.Module:
    return ast.parse((ROOT / rel).read_text(encoding="utf-8"))


def _literal_args(rel: str, func: str, position: int) -> list[str]:
    """Literal arguments at ``position`` of every call of ``func`` in a file."""
    out = []
    for node in ast.walk(_tree(rel)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == func and position < len(node.args):
                arg = node.args[position]
                assert isinstance(arg, ast.Constant), f"{rel}:{node.lineno} {func}() dynamic"
                out.append(arg.value)
    assert out, (rel, func)
    return out


def _literal_returns(rel: str, func: str) -> list[str]:
    """The literal texts a function returns."""
    fn = next(n for n in ast.walk(_tree(rel)) if isinstance(n, ast.FunctionDef) and n.name == func)
    return [
        n.value.value
        for n in ast.walk(fn)
        if isinstance(n, ast.Return) and isinstance(n.value, ast.Constant) and n.value.value
    ]


def _fixed_questions(attribute: str) -> list[str]:
    """``question`` / ``button_keys`` of the FixedQuestion actions (class attributes)."""
    out = []
    for rel in ("actions/boundaries.py", "actions/incidents.py"):
        for cls in ast.walk(_tree(rel)):
            if not isinstance(cls, ast.ClassDef):
                continue
            if "FixedQuestion" not in {getattr(b, "id", None) for b in cls.bases}:
                continue
            for stmt in cls.body:
                if not isinstance(stmt, ast.Assign):
                    continue
                target = stmt.targets[0]
                names = [target] if isinstance(target, ast.Name) else list(target.elts)
                values = [stmt.value] if isinstance(target, ast.Name) else list(stmt.value.elts)
                for name, value in zip(names, values, strict=True):
                    if name.id == attribute:
                        value = ast.literal_eval(value)
                        out += [value] if isinstance(value, str) else list(value)
    assert out, attribute
    return out


def _invalid_codes() -> list[str]:
    """The ``invalid.*`` texts ``invalid_message`` takes without values (the others it fills)."""
    with_values = {
        "date_future",
        "date_future_known",
        "date_too_old",
        "behavior_unknown",
        "behavior_unknown_no_value",
        "note_too_long",
        "note_too_long_unknown",
        "client_name_too_long",
        "threshold_range",
    }
    return [f"invalid.{c}" for c in _keys_of("history", "invalid") if c not in with_values]


def _warning_sign_texts() -> list[str]:
    count = len(texts.lookup("knowledge", "warning_signs"))
    return [
        f"warning_signs.{i}.{part}" for i in range(count) for part in ("question", "explanation")
    ]


def _warning_outcomes() -> list[str]:
    """Every verdict :func:`bot.warning_signs.assessment` can give (but no_answers: own call)."""
    cfg = playbooks.config()["warning_signs"]
    outcomes = list(cfg["levels"]) + list(cfg["overriding"]) + ["after_talk", "after_talk_few"]
    outcomes += [f"{k}_after_talk" for k in cfg["overriding_after_talk"]]
    return [f"warning_result.{o}" for o in outcomes]


def _topic_fields() -> list[str]:
    """Every text under ``topics.<name>`` (short, step, gist, next, buttons, details)."""

    def walk(node: Any, key: str) -> Iterable[str]:
        if isinstance(node, str):
            yield key
        elif isinstance(node, dict):
            for k, v in node.items():
                if k != "payload":
                    yield from walk(v, f"{key}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, f"{key}.{i}")

    return [
        k
        for name in knowledge.TOPICS
        for k in walk(texts.lookup("knowledge", f"topics.{name}"), f"topics.{name}")
    ]


def _client_forms() -> list[str]:
    return [
        f"forms.{kind}.{part}"
        for kind in _keys_of("clients", "forms")
        for part in clients.FORM_KEYS
    ]


def _rubric_tips() -> list[str]:
    return [f"tips.rules.{i}.text" for i in range(len(texts.lookup("rubric", "tips.rules")))]


def _rubric_templates() -> list[str]:
    return [
        f"suggestions.templates.{c}.{i}.text"
        for c in RUBRIC_CRITERIA
        for i in range(len(texts.lookup("rubric", f"suggestions.templates.{c}")))
    ]


CRITERIA_LABELS = _each("feedback.labels.{}", lambda: engine.CRITERIA)
OUTCOMES = ("accepted", "unresolved", "client_left")

#: (file, source, key shape) -> (number of call sites, the keys the shape can become). A shape
#: is the key with each run-time part as ``{}``: ``t(f"ladders.{state.ladder.key}")`` in
#: bot/incidents.py is ("bot/incidents.py", "history", "ladders.{}"). Where one shape stands
#: for calls that can take different keys, the key with its expressions tells them apart.
DYNAMIC: dict[tuple[str, str, str], tuple[int, Callable[[], Iterable[Any]]]] = {
    # actions
    ("actions/boundaries.py", "history", "setup.why.{}"): (
        1,
        _each("setup.why.{}", lambda: [s["behavior"] for s in escalation.config()["suggestions"]]),
    ),
    ("actions/history_common.py", "history", "{self.question}"): (  # FixedQuestion
        1,
        lambda: _fixed_questions("question"),
    ),
    ("actions/history_common.py", "history", "{key}"): (2, lambda: _fixed_questions("button_keys")),
    ("actions/roleplay.py", "roleplay", "feedback.labels.{}"): (2, CRITERIA_LABELS),
    ("actions/roleplay.py", "roleplay", "feedback.tips.{}"): (
        1,
        _each("feedback.tips.{}", lambda: engine.CRITERIA),
    ),
    ("actions/roleplay.py", "roleplay", "progress.arrows.{}"): (
        1,
        _each("progress.arrows.{}", lambda: ("up", "down", "flat", "new")),
    ),
    # bot
    ("bot/clients.py", "clients", "forms.{}.client_name"): (
        1,
        _each("forms.{}.client_name", lambda: (clients.FEMALE, clients.MALE)),
    ),
    ("bot/clients.py", "clients", "{}.{}"): (1, _client_forms),
    ("bot/boundaries.py", "history", "counts.{}.{}"): (  # plural(): [one, many]
        2,
        lambda: [f"counts.{k}.{i}" for k in _keys_of("history", "counts") for i in (0, 1)],
    ),
    ("bot/boundaries.py", "history", "labels.{}"): (2, _each("labels.{}", escalation.behaviors)),
    ("bot/groups.py", "roleplay", "feedback.labels.{}"): (1, CRITERIA_LABELS),
    ("bot/incidents.py", "history", "incident.abuse_frequency.{}"): (
        1,
        _each("incident.abuse_frequency.{}", lambda: _choices("abusive", "abuse_frequency")),
    ),
    ("bot/incidents.py", "history", "incident.abuse_severity.{}"): (
        1,
        _each("incident.abuse_severity.{}", lambda: _choices("abusive", "abuse_severity")),
    ),
    ("bot/incidents.py", "history", "invalid.{}"): (1, _invalid_codes),
    ("bot/incidents.py", "history", "ladders.{}"): (3, _each("ladders.{}", _ladders)),
    ("bot/incidents.py", "history", "weekdays.{}"): (1, _each("weekdays.{}", lambda: range(7))),
    ("bot/incidents.py", "history", "{}"): (1, _steps),  # _step_texts: the step's mapping
    ("bot/incidents.py", "history", "{}.{}"): (
        1,
        lambda: [f"{step}.{part}" for step in _steps() for part in ("title", "advice")],
    ),
    ("bot/incidents.py", "knowledge", "short_names.{}"): (
        1,
        _each("short_names.{}", warning_signs.keys),
    ),
    ("bot/drafts.py", "drafts", "{}"): (1, drafts.text_keys),
    ("bot/knowledge.py", "knowledge", "topics.{}.{}"): (1, _topic_fields),
    ("bot/knowledge.py", "knowledge", "stress_now.cues.{}"): (
        1,
        _each("stress_now.cues.{}", lambda: _keys_of("knowledge", "stress_now.cues")),
    ),
    ("bot/knowledge.py", "knowledge", "topics.{}"): (
        1,
        _each("topics.{}", lambda: knowledge.TOPICS),
    ),
    ("bot/playbooks.py", "cases", "abusive.next_names.{}"): (
        1,
        _each("abusive.next_names.{}", lambda: playbooks.config()["abuse_ladder"][1:]),
    ),
    ("bot/playbooks.py", "cases", "abusive.step.{}"): (
        1,
        _each("abusive.step.{}", lambda: playbooks.config()["abuse_ladder"]),
    ),
    ("bot/playbooks.py", "cases", "extra_requests.phrasing.{}"): (
        1,
        _each("extra_requests.phrasing.{}", lambda: ("fulfil", "negotiate", "decline")),
    ),
    ("bot/playbooks.py", "cases", "extra_requests.verdict.{}"): (
        1,
        _each(
            "extra_requests.verdict.{}",
            lambda: ("fulfil", "negotiate_payment", "negotiate_counter", "decline", "chronic_end"),
        ),
    ),
    ("bot/playbooks.py", "cases", "false_claims.evidence.{}"): (
        1,
        _each(
            "false_claims.evidence.{}",
            lambda: _choices("false_claims", "false_evidence") + ["unsure"],
        ),
    ),
    ("bot/playbooks.py", "cases", "intro.{}"): (1, _each("intro.{}", lambda: playbooks.CASES)),
    ("bot/playbooks.py", "cases", "our_fault.impact.{}"): (
        1,
        _each("our_fault.impact.{}", lambda: _choices("our_fault", "fault_impact") + ["medium"]),
    ),
    ("bot/roleplay/engine.py", "roleplay", "briefing.{}"): (
        1,
        _each("briefing.{}", lambda: ("intro", "background", "goal")),
    ),
    ("bot/roleplay/engine.py", "roleplay", "difficulty_labels.{}"): (
        1,
        _each("difficulty_labels.{}", lambda: DIFFICULTY_LEVELS),
    ),
    ("bot/roleplay/evaluation.py", "roleplay", "feedback.labels.{}"): (1, CRITERIA_LABELS),
    ("bot/roleplay/evaluation.py", "roleplay", "feedback.outcome.{}"): (
        1,
        _each("feedback.outcome.{}", lambda: OUTCOMES),
    ),
    ("bot/roleplay/evaluation.py", "roleplay", "feedback.tips.{}"): (
        1,
        _each("feedback.tips.{}", lambda: engine.CRITERIA),
    ),
    ("bot/roleplay/evaluation.py", "rubric", "conversation.good.{}"): (
        1,
        _each("conversation.good.{}", lambda: RUBRIC_CRITERIA),
    ),
    ("bot/roleplay/evaluation.py", "rubric", "conversation.issues.{}.{}"): (
        1,
        lambda: [
            f"conversation.issues.{c}.{issue}"
            for c in RUBRIC_CRITERIA
            for issue in _keys_of("rubric", f"conversation.issues.{c}")
        ],
    ),
    ("bot/roleplay/evaluation.py", "rubric", "conversation.rewrites.{}"): (
        2,
        _each("conversation.rewrites.{}", lambda: RUBRIC_CRITERIA),
    ),
    ("bot/roleplay/engine.py", "roleplay", "finished.{}"): (
        1,
        _each("finished.{}", lambda: OUTCOMES),
    ),
    ("bot/rubric/cli.py", "rubric", "labels.{}"): (1, _each("labels.{}", lambda: RUBRIC_CRITERIA)),
    ("bot/rubric/engine.py", "rubric", "suggestions.templates.{}.{}.text"): (
        1,
        _rubric_templates,
    ),
    ("bot/rubric/engine.py", "rubric", "tips.rules.{}.text"): (1, _rubric_tips),
    ("bot/warning_signs.py", "knowledge", "short_names.{}"): (
        1,
        _each("short_names.{}", warning_signs.keys),
    ),
    ("bot/warning_signs.py", "knowledge", "warning_result.{}"): (1, _warning_outcomes),
    ("bot/warning_signs.py", "knowledge", "warning_signs.{}.{}"): (1, _warning_sign_texts),
    # connectors
    ("connectors/channel_common.py", "channels", "{}"): (  # section(name)
        1,
        lambda: _literal_args("connectors/webchat_assets.py", "section", 0),
    ),
    ("connectors/channel_common.py", "channels", "{}.{}"): (
        1,
        lambda: [
            f"{name}.{key}"
            for name in _literal_args("connectors/webchat_assets.py", "section", 0)
            for key in _keys_of("channels", name)
        ],
    ),
    ("connectors/guard.py", "messages", "replies.{}"): (
        1,
        _each("replies.{}", lambda: _literal_args("connectors/guard.py", "_notice", 1)),
    ),
    ("connectors/slack.py", "channels", "errors.{}"): (
        2,
        _each("errors.{}", lambda: _literal_returns("connectors/slack.py", "signature_problem")),
    ),
}


def _entry(site: Site) -> tuple[str, str, str]:
    """The site's row of DYNAMIC: by its key with expressions if listed so, else by shape."""
    exact = (site.file, Site.shape(site.source), Site.pattern(site.key))
    return exact if exact in DYNAMIC else (site.file, Site.shape(site.source), Site.shape(site.key))


DYNAMIC_CALLS = {
    c: group for c, group in _calls(SITES).items() if not all(s.literal for s in group)
}


@pytest.mark.parametrize("call", sorted(DYNAMIC_CALLS), ids=lambda c: f"{c[0]}:{c[1]}")
def test_every_dynamic_key_is_enumerated(call):
    problems = []
    for site in DYNAMIC_CALLS[call]:
        entry = _entry(site)
        assert entry in DYNAMIC, f"{site.describe()}: add {entry} to DYNAMIC with its keys"
        _count, keys = DYNAMIC[entry]
        keys = list(keys())
        assert keys, entry
        problems += _check(
            site.primitive, site.source[0], keys, site.keywords, site.open, site.ambient
        )
    assert not problems, f"{DYNAMIC_CALLS[call][0].describe()}: {problems}"


def test_dynamic_table_matches_the_code():
    found: dict[tuple[str, str, str], int] = {}
    for s in SITES:
        if not s.literal:
            entry = _entry(s)
            found[entry] = found.get(entry, 0) + 1
    assert {e: n for e, (n, _) in DYNAMIC.items()} == found


def test_rubric_texts_get_their_values():
    """Tips get ``quote`` / ``suggestion`` as their rule says; templates only slots they need."""
    for i, rule in enumerate(texts.lookup("rubric", "tips.rules")):
        wanted = set(texts.placeholders(rule["text"]))
        given = {n for n, flag in (("quote", "quote"), ("suggestion", "suggest")) if rule.get(flag)}
        assert wanted == given, (i, rule["id"])
    always = {"name_comma", "name_suffix", "date_opt"}
    implied = {"core_lc": "core", "reason_main_lc": "reason_main"}
    for criterion in RUBRIC_CRITERIA:
        for tpl in texts.lookup("rubric", f"suggestions.templates.{criterion}"):
            needs = set(tpl.get("needs") or ())
            for name in texts.placeholders(tpl["text"]):
                assert name in always or implied.get(name, name) in needs, (criterion, tpl)
    main = texts.lookup("rubric", "suggestions.slots.main_clause")
    assert set(texts.placeholders(main)) <= always
