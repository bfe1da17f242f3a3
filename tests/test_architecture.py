"""The stack of docs/architecture.md ("The layers"), enforced: every import of the project's code goes
down the stack or stays in its layer, task names and schedules are declared next to their tasks.

An arrow is any import of a project module, wherever it is written (module level, inside a function,
under TYPE_CHECKING, relative), and any string naming a project module or something in one
("judging.tasks.round_judge_task"): such a string is an import made later, by django-q2 or Django.
Migrations are history and are not read.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db.models.signals import post_migrate
from django_q.models import Schedule

from competition.pipeline import signals
from config.queue import TaskSchedule, task_path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("config", "teams", "competition", "conversations", "judging", "accounts")

# The layers, bottom first: a module may import its own layer and the layers below it. A module
# belongs to the layer of the longest prefix that names it (a prefix names a module and everything
# under it), so a module moved or added inside a package keeps its package's layer.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("platform", ("config",)),
    ("teams", ("teams",)),
    (
        "competition core",
        (
            "competition",
            "competition.pipeline.models",
            "competition.pipeline.services",
            "competition.pipeline.selectors",
        ),
    ),
    ("conversations", ("conversations",)),
    (
        "round lifecycle",
        (
            "competition.pipeline.lifecycle",
            "competition.pipeline.probes",
            "competition.pipeline.signals",
            # Starting a practice match starts its round (competition/practice/: docs/practice.md).
            "competition.practice.services",
        ),
    ),
    ("judging", ("judging", "judging.datasets.models")),
    (
        "acting",
        (
            # The round's work above judging: the player, the reaper, scoring, and their tasks.
            "competition.pipeline",
            "competition.tasks",
            # What people act through: the organizers' admin, the API, the site and its reads
            # (the competition-wide ratings read judging's labels), the commands.
            "competition.admin",
            "conversations.admin",
            "judging.admin",
            "judging.annotation.admin",
            "judging.reading.admin",
            "competition.api",
            "competition.views",
            "competition.urls",
            "competition.selectors",
            "competition.management",
            "competition.competition_file.load",
            "competition.competition_file.admin",
            # Practice's reads show judging's labels; its pages, API and admin act through its services.
            "competition.practice.selectors",
            "competition.practice.views",
            "competition.practice.api",
            "competition.practice.admin",
            # The bot page's practice part (a template tag) reads practice's selectors.
            "competition.templatetags.practice",
            # Datasets read every app; nothing but their own commands and admin imports them. Their
            # models sit with judging's (judging/models.py re-exports them for Django).
            "judging.datasets",
            "judging.management",
            # The wiring: app configs connect receivers and schedules, settings and URLs name everything.
            "config.settings",
            "config.demo_settings",
            "config.test_settings",
            "config.urls",
            "config.api_urls",
            "config.asgi",
            "config.wsgi",
            "teams.apps",
            "competition.apps",
            "conversations.apps",
            "judging.apps",
            # People on their own (sign-up, invitations, mail, notices): they hear of round events
            # through competition/signals.py and read every app below.
            "accounts",
        ),
    ),
)

# Arrows against the stack that exist today, each with the work that removes it. An arrow not listed
# here fails the test; a listed one that is gone fails too, so the list only ever shrinks.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("judging.tasks", "judging.datasets.tasks"): (
        "MOVED_TASKS: the export tasks' old paths, for tasks queued before the regrouping; drop them once"
        " no queue holds one (their Schedule row is rewritten after migrate)"
    ),
}

# Who may import judging.datasets from outside it (importer prefix -> what of it): its commands, the
# app config (its admin, its schedule), and judging's models, which Django reads every model from.
DATASETS = "judging.datasets"
DATASETS_IMPORTERS = {
    "judging.management.commands": DATASETS,
    "judging.apps": DATASETS,
    "judging.models": "judging.datasets.models",
}
KNOWN_DATASETS_IMPORTERS = {"judging.tasks": "MOVED_TASKS, see KNOWN_EXCEPTIONS"}
# Modules that may name a task by a string: the old paths of tasks that moved.
TASK_PATH_ALIASES = {"judging.tasks": "MOVED_TASKS, see KNOWN_EXCEPTIONS"}

DOTTED = re.compile(r"[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


@dataclass(frozen=True)
class Arrow:
    importer: str
    imported: str
    line: int
    by_string: bool = False


def project_modules(root: Path, apps: tuple[str, ...]) -> dict[str, Path]:
    """Every module of the project's apps by dotted name ("judging.services" for its __init__.py),
    migrations left out."""
    modules = {}
    for app in apps:
        for path in sorted((root / app).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _resolved(dotted: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of `dotted` that is a project module, or None."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in modules:
            return name
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of bare string statements (docstrings and the like): text, not references."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def module_arrows(name: str, path: Path, modules: dict[str, Path]) -> list[Arrow]:
    """Every arrow from module `name` (at `path`) to another project module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    text = _docstrings(tree)
    arrows = []

    def add(dotted: str, line: int, *, by_string: bool = False) -> None:
        target = _resolved(dotted, modules)
        if target is None or target == name:
            return
        if by_string and "." not in target:
            return  # "judging.view_annotation", "competition.Round": an app label, not a module
        arrows.append(Arrow(name, target, line, by_string))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                # `from judging import tasks` imports the module judging.tasks.
                add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source, node.lineno)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in text
            and DOTTED.fullmatch(node.value)
            and node.value.split(".")[0] in {module.split(".")[0] for module in modules}
        ):
            add(node.value, node.lineno, by_string=True)
    return list(dict.fromkeys(arrows))


def layer_of(module: str, layers=LAYERS) -> int:
    """The index (0 = bottom) of the layer whose longest prefix names `module`; -1 for none."""
    best, index = "", -1
    for position, (_, prefixes) in enumerate(layers):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, index = prefix, position
    return index


def arrows_against(modules: dict[str, Path], layers=LAYERS) -> list[Arrow]:
    """The arrows that point up the stack: to a layer above the importer's."""
    return [
        arrow
        for name, path in modules.items()
        for arrow in module_arrows(name, path, modules)
        if layer_of(arrow.imported, layers) > layer_of(arrow.importer, layers)
    ]


def _described(arrows: list[Arrow], layers=LAYERS) -> list[str]:
    names = [name for name, _ in layers]
    return sorted(
        f"{a.importer}:{a.line} ({names[layer_of(a.importer, layers)]}) -> {a.imported} "
        f"({names[layer_of(a.imported, layers)]}){' by a string' if a.by_string else ''}"
        for a in arrows
    )


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    return project_modules(ROOT, APPS)


@pytest.fixture(scope="module")
def all_arrows(modules) -> list[Arrow]:
    return [arrow for name, path in modules.items() for arrow in module_arrows(name, path, modules)]


# --- The checker itself ---------------------------------------------------------------------------


def test_it_catches_an_import_against_the_stack_wherever_it_is_written(tmp_path):
    # A made-up project: `low` below `high`. Each way of reaching up is caught, nothing else is.
    for package in ("low", "high"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "high" / "tasks.py").write_text("def work_task():\n    pass\n")
    (tmp_path / "high" / "models.py").write_text("from low import base\n")
    (tmp_path / "low" / "base.py").write_text('"""Mentions high.tasks.work_task in prose only."""\n')
    (tmp_path / "low" / "inside.py").write_text("def f():\n    from high.models import Thing\n")
    (tmp_path / "low" / "plain.py").write_text("import high.tasks\n")
    (tmp_path / "low" / "by_name.py").write_text('TASK = "high.tasks.work_task"\n')
    (tmp_path / "low" / "relative.py").write_text("from ..high import tasks\n")
    (tmp_path / "low" / "label.py").write_text('MODEL = "high.Thing"\n')
    layers = (("low", ("low",)), ("high", ("high",)))
    modules = project_modules(tmp_path, ("low", "high"))

    found = {(a.importer, a.imported, a.by_string) for a in arrows_against(modules, layers)}

    assert found == {
        ("low.inside", "high.models", False),
        ("low.plain", "high.tasks", False),
        ("low.by_name", "high.tasks", True),
        ("low.relative", "high.tasks", False),
    }


def test_it_places_a_module_by_its_longest_prefix():
    assert layer_of("competition.pipeline.models") < layer_of("conversations.models")
    assert layer_of("competition.pipeline.player.loop") > layer_of("judging.services.judging")
    assert layer_of("competition.competition_file.parsing") < layer_of("competition.competition_file.load")
    assert layer_of("competition.pipeline.lifecycle") < layer_of("judging.tasks") < layer_of("judging.datasets.card")
    assert layer_of("judging.datasets.models") == layer_of("judging.models")


# --- The project's stack --------------------------------------------------------------------------


def test_it_keeps_every_arrow_down_the_stack(modules):
    new = [a for a in arrows_against(modules) if (a.importer, a.imported) not in KNOWN_EXCEPTIONS]

    assert _described(new) == [], "imports against the stack of docs/architecture.md"


def test_it_lists_only_exceptions_that_still_exist(modules):
    existing = {(a.importer, a.imported) for a in arrows_against(modules)}

    gone = sorted(set(KNOWN_EXCEPTIONS) - existing)

    assert gone == [], "these arrows are gone: delete them from KNOWN_EXCEPTIONS (and docs/architecture.md)"


def test_it_names_only_modules_that_exist_in_the_layers(modules):
    # A prefix left behind by a move would silently put the moved module in its package's layer.
    prefixes = [prefix for _, layer in LAYERS for prefix in layer]

    assert [prefix for prefix in prefixes if prefix not in modules] == []
    assert len(prefixes) == len(set(prefixes))


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_it_keeps_datasets_a_leaf(all_arrows):
    importers = {
        a.importer
        for a in all_arrows
        if _within(a.imported, DATASETS)
        and not _within(a.importer, DATASETS)
        and not any(_within(a.importer, who) and _within(a.imported, what) for who, what in DATASETS_IMPORTERS.items())
    }

    assert importers == set(KNOWN_DATASETS_IMPORTERS)


PURE_LIBRARIES = sys.stdlib_module_names | {"numpy", "datasketch"}


def test_it_keeps_scoring_pure(modules):
    # competition/scoring/ computes standings from plain records: no Django, no models, no other app;
    # numbers with the standard library, numpy and datasketch (MinHash) only.
    outside = set()
    for name, path in modules.items():
        if not name.startswith("competition.scoring"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            for imported in names:
                top = imported.split(".")[0]
                if top not in PURE_LIBRARIES and not imported.startswith("competition.scoring"):
                    outside.add(f"{name} -> {imported}")

    assert outside == set()


# --- Module size ----------------------------------------------------------------------------------

# The charter: split a module by concern before it passes about 400 lines (one module, one idea).
MAX_MODULE_LINES = 400


def test_it_keeps_every_app_module_under_400_lines(modules):
    # `modules` holds every module of the apps, migrations left out; tests live outside the apps.
    long = {
        name: count
        for name, path in modules.items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }

    assert long == {}, "split these by concern (docs/architecture.md)"


# --- Tasks and schedules --------------------------------------------------------------------------

QUEUE_CALLS = {"task_enqueue", "async_task", "schedule"}


def test_it_names_every_task_by_its_function_never_by_a_string(modules):
    by_string = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in QUEUE_CALLS and isinstance(node.args[0], ast.Constant):
                by_string.append(f"{name}:{node.lineno}")
        by_string += [
            f"{name}:{a.line} names {a.imported}"
            for a in module_arrows(name, path, modules)
            if a.by_string and a.imported.rpartition(".")[2] == "tasks" and name not in TASK_PATH_ALIASES
        ]

    assert by_string == []


def _tasks_modules(modules) -> list:
    return [importlib.import_module(name) for name in modules if name.rpartition(".")[2] == "tasks"]


def test_it_resolves_every_task_and_schedule_to_its_function(modules):
    tasks_modules = _tasks_modules(modules)
    assert {module.__name__ for module in tasks_modules} >= {
        "teams.tasks",
        "competition.tasks",
        "judging.tasks",
        "judging.datasets.tasks",
    }
    declared = []
    for module in tasks_modules:
        for attribute, value in vars(module).items():
            if attribute.endswith("_task") and callable(value) and value.__module__ == module.__name__:
                declared.append(value)
        for schedule in getattr(module, "SCHEDULES", ()):
            assert isinstance(schedule, TaskSchedule)
            declared.append(schedule.task)
    assert len(declared) > 10

    for task in declared:
        module_name, _, attribute = task_path(task).rpartition(".")
        assert getattr(importlib.import_module(module_name), attribute) is task, task_path(task)


def _schedules(modules) -> list[TaskSchedule]:
    return [schedule for module in _tasks_modules(modules) for schedule in getattr(module, "SCHEDULES", ())]


def test_it_has_every_declared_schedule_once_after_migrating(db, modules):
    declared = sorted((s.name, s.func, s.minutes) for s in _schedules(modules))
    assert [name for name, _, _ in declared] == ["Bot health checks", "Export job sweep", "Round reaper"]

    rows = sorted(Schedule.objects.values_list("name", "func", "minutes"))

    assert rows == declared
    assert set(Schedule.objects.values_list("schedule_type", "repeats")) == {(Schedule.MINUTES, -1)}


def test_it_writes_every_declared_schedule_after_migrate(modules):
    kept = {
        name
        for (uid, _), *_ in post_migrate.receivers
        if isinstance(uid, str) and uid.startswith("schedules_keep:")
        for name in uid.partition(":")[2].split(",")
    }

    assert {schedule.name for schedule in _schedules(modules)} <= kept


@pytest.mark.parametrize("signal", [signals.players_wanted, signals.round_judging_wanted, signals.round_scoring_wanted])
def test_it_has_one_receiver_for_each_lifecycle_signal(signal):
    assert len(signal.receivers) == 1
