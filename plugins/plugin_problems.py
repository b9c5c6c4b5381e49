"""Why the host sets a plugin aside, each in one line that names the hook and what to change.

A broken plugin is reported to people who did not write it (an operator running an ingest), and
to its author, who must know what to edit: so every reason here says both.
"""

import difflib
import importlib.metadata
import inspect
from collections.abc import Collection, Iterable

import pluggy

from atmp_graph.plugins import hookspecs

HOOKS = tuple(name for name in vars(hookspecs) if name.startswith("atmp_graph_"))

# What a hook's raising costs, and what its author should do instead.
AFTER_RAISING = {
    "atmp_graph_feeds": "its feeds are not served: make the hook return its feed adapters",
    "atmp_graph_claim_source": "it claims no source: make the hook return None for a source "
    "it does not read",
    "atmp_graph_validate_record": "the records it cannot check are quarantined: make the hook "
    "return (field, reason) pairs instead of raising",
    "atmp_graph_normalize_identifier": "identifiers keep the form the other plugins give them: "
    "make the hook return None for an identifier it does not know",
    "atmp_graph_after_ingest": "the ingest is not affected: fix the hook, or make it catch what "
    "it cannot handle",
}


def one_line(text: object) -> str:
    """An error's text on one line: a report is one line per plugin."""
    return " ".join(str(text).split())


def raised(hook: str, error: Exception) -> str:
    return f"{hook} raised {type(error).__name__}: {one_line(error)}; {AFTER_RAISING[hook]}"


def not_loaded(entry_point: importlib.metadata.EntryPoint, error: Exception) -> str:
    distribution = entry_point.dist.name if entry_point.dist else entry_point.name
    return (
        f"cannot be loaded: {type(error).__name__}: {one_line(error)} (entry point "
        f"{entry_point.name} = {entry_point.value}): install what it imports, or uninstall "
        f"{distribution}"
    )


def _required_arguments(function: object) -> list[str]:
    """The arguments pluggy passes an implementation: those without a default (as pluggy)."""
    try:
        parameters = inspect.signature(function).parameters.values()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return []
    names = [
        parameter.name
        for parameter in parameters
        if parameter.default is inspect.Parameter.empty
        and parameter.kind in {parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD}
    ]
    # A method of a plugin class registered as the class itself still names its instance.
    return names[1:] if names[:1] == ["self"] else names


def _implementation_problem(name: str, function: object, options: pluggy.HookimplOpts) -> str:
    if name not in HOOKS:
        if options.get("optionalhook"):
            return ""
        close = difflib.get_close_matches(name, HOOKS, n=1)
        instead = close[0] if close else "one of " + ", ".join(HOOKS)
        return f"{name} is not a hook: rename it to {instead}"
    if options.get("wrapper") or options.get("hookwrapper"):
        # The host calls each implementation on its own (so one cannot take the others down),
        # which a wrapper around the others cannot be.
        return (
            f"{name} is declared as a wrapper, which this host does not run: remove "
            "wrapper=True or hookwrapper=True from its @hookimpl"
        )
    known = _required_arguments(getattr(hookspecs, name))
    unknown = [argument for argument in _required_arguments(function) if argument not in known]
    if unknown:
        return (
            f"{name} has no argument {', '.join(unknown)}: define it with only these "
            f"arguments, or fewer: {name}({', '.join(known)})"
        )
    return ""


def hook_problem(manager: pluggy.PluginManager, plugin: object) -> str | None:
    """What is wrong with `plugin`'s hook implementations (a misspelt hook, an argument the
    hook does not pass, a wrapper), said as what to change; None when nothing is."""
    for name in dir(plugin):
        options = manager.parse_hookimpl_opts(plugin, name)
        if options is not None:
            problem = _implementation_problem(name, getattr(plugin, name), options)
            if problem:
                return problem
    return None


def unknown_plugins(only: Collection[str], *, installed: Iterable[str]) -> str | None:
    """The sentence that stops a command whose ATMP_GRAPH_PLUGINS names no installed plugin."""
    known = sorted(set(installed))
    unknown = sorted(set(only) - set(known))
    if not unknown:
        return None
    which = "which is" if len(unknown) == 1 else "which are"
    listed = ", ".join(known) if known else "none (besides the built-in feeds)"
    return (
        f"ATMP_GRAPH_PLUGINS names {', '.join(map(repr, unknown))}, {which} not installed; "
        f"the installed plugins are: {listed}"
    )
