"""The plugin contract's version, and the host's check of the version a plugin declares.

Major versions change what a plugin must do (a hook's meaning, a record's required fields);
minor versions only add (a new optional hook, a new record field).  A plugin written for
1.x runs on any 1.y host.

1.0  the five hooks, the record types, FeedAdapter and Stream.
1.1  `atmp_graph_validate_record` may also name `row` and `problems`, and is then asked about
     every record, also one the built-in checks rejected (`record` None).
"""

CONTRACT_VERSION = "1.1"
DECLARATION = "ATMP_GRAPH_CONTRACT"


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def contract_problem(plugin: object) -> str | None:
    """Why the host must refuse `plugin` for its declared contract version, or None."""
    declared = getattr(plugin, DECLARATION, None)
    if declared is None:
        return (
            f"does not say which plugin contract it was written for: "
            f'add {DECLARATION} = "{CONTRACT_VERSION}" to the module its entry point names'
        )
    if not isinstance(declared, str) or _major(declared) != _major(CONTRACT_VERSION):
        return (
            f"was written for plugin contract {declared}, and this ATMP Graph has contract "
            f"{CONTRACT_VERSION}: install a version of the plugin made for contract "
            f"{_major(CONTRACT_VERSION)}.x"
        )
    return None
