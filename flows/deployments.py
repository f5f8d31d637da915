"""Running reewatch as Prefect deployments: the warehouse slot a run holds, and applying the automations.

- `warehouse_slot(wait_seconds)`: the flow holds the one slot of the global concurrency limit `reewatch-warehouse`
  while it writes the warehouse, so runs of different deployments (or workers) wait for each other instead of
  failing. Without the limit on the server (e.g. `reewatch run` with Prefect's temporary server) it does nothing
  and the lake's own writer lock still keeps runs apart.
- `python -m flows.deployments automations [--notify BLOCK_TYPE/BLOCK_NAME] [--file infra/automations.yaml]`
  creates (or replaces) the automations of infra/automations.yaml on the server `PREFECT_API_URL` names.

The deployments themselves are in infra/prefect.yaml; scripts/serve.sh and docs/deploy.md show the whole setup.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

WORK_POOL = "reewatch"
WAREHOUSE_LIMIT = "reewatch-warehouse"
AUTOMATIONS_FILE = Path("infra") / "automations.yaml"

log = logging.getLogger("reewatch.deployments")


@contextlib.contextmanager
def warehouse_slot(wait_seconds: float = 0.0, name: str = WAREHOUSE_LIMIT) -> Iterator[bool]:
    """Hold the slot of the global concurrency limit `name` for the block; wait up to `wait_seconds` for it.

    Yields True when a slot is held, False when the server has no such limit. Raises `LakeBusy` (the same error
    as the lake's writer lock, so callers report "lake busy") when the slot stays taken for `wait_seconds`.
    """
    from prefect.concurrency.sync import concurrency

    from reewatch.warehouse import LakeBusy

    limit = _read_limit(name)
    if limit is None:
        yield False
        return
    busy = limit.active_slots >= limit.limit
    slot = contextlib.ExitStack()
    try:
        if busy and wait_seconds <= 0:
            raise _SlotBusy("taken")
        if busy:
            _run_logger().info(
                "another run holds the warehouse slot %r: waiting up to %.0f s for it", name, wait_seconds
            )
        _take(slot, concurrency, name, wait=wait_seconds if wait_seconds > 0 else None)
    except _SlotBusy as exc:
        raise LakeBusy(
            f"lake busy: another run holds the Prefect concurrency slot {name!r}"
            + (f" and did not release it within {wait_seconds:.0f} s" if wait_seconds > 0 else "")
            + "; try again later or pass a longer wait"
        ) from exc
    with slot:
        yield True


class _SlotBusy(Exception):
    pass


def _take(slot: contextlib.ExitStack, concurrency: Any, name: str, wait: float | None) -> None:
    import httpx
    from prefect.concurrency._asyncio import ConcurrencySlotAcquisitionError

    manager = concurrency(
        name,
        occupy=1,
        # wait=None: one attempt (a 423 "locked" answer is not retried); else retry until the timeout.
        timeout_seconds=wait,
        max_retries=0 if wait is None else None,
        strict=False,
        # A transient API error while renewing the lease must not kill a run that holds the writer lock anyway.
        raise_on_lease_renewal_failure=False,
    )
    try:
        slot.enter_context(manager)
    except TimeoutError as exc:  # waited `wait` seconds
        raise _SlotBusy(str(exc)) from exc
    except ConcurrencySlotAcquisitionError as exc:  # a 423 "locked" with no retries left is "busy"; else re-raise
        cause = exc.__cause__
        if isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code == 423:
            raise _SlotBusy(str(exc)) from exc
        raise


def _read_limit(name: str) -> Any:
    """The server's global concurrency limit `name`, or None (no such limit, or it is switched off)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            log.debug("no global concurrency limit %r on this Prefect server: runs rely on the writer lock", name)
            return None
    return limit if limit.active else None


def _run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return log


# ------------------------------------------------------------------------------------------------ automations


def load_automations(path: Path, notify_block_id: str | None = None) -> list[Any]:
    """The automations of `path` as Prefect `AutomationCore`s, their notifications sent through the block
    `notify_block_id`, or turned into do-nothing actions without one."""
    import yaml
    from prefect.events.schemas.automations import AutomationCore

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    specs = data["automations"] if isinstance(data, dict) else data
    automations = []
    for spec in specs:
        actions = []
        for action in spec.get("actions", []):
            if action.get("type") == "send-notification":
                action = {**action, "block_document_id": notify_block_id} if notify_block_id else {"type": "do-nothing"}
            actions.append(action)
        automations.append(AutomationCore.model_validate({**spec, "actions": actions}))
    return automations


class MissingNotifyBlock(LookupError):
    """The notification block named does not exist on the server (it can only be made once the server is up)."""


def apply_automations(path: Path = AUTOMATIONS_FILE, notify: str | None = None) -> list[str]:
    """Create the automations of `path` on the current Prefect server, replacing those of the same names.

    `notify` is `BLOCK_TYPE_SLUG/BLOCK_NAME` of a notification block (e.g. `slack-webhook/reewatch-alerts`).
    Returns the names created.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        block_id = None
        if notify:
            slug, _, name = notify.partition("/")
            if not slug or not name:
                raise ValueError(f"--notify takes BLOCK_TYPE/BLOCK_NAME (e.g. slack-webhook/alerts), not {notify!r}")
            try:
                block_id = str(client.read_block_document_by_name(name=name, block_type_slug=slug).id)
            except ObjectNotFound:
                raise MissingNotifyBlock(
                    f"there is no notification block {notify} on this Prefect server yet: create it (docs/deploy.md, "
                    "section 5) and run this again"
                ) from None
        automations = load_automations(path, block_id)
        for automation in automations:
            for old in client.read_automations_by_name(automation.name):
                client.delete_automation(old.id)
            client.create_automation(automation)
    return [automation.name for automation in automations]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.deployments", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("automations", help="create or replace the automations of infra/automations.yaml")
    create.add_argument("--file", type=Path, default=AUTOMATIONS_FILE, help="default: %(default)s")
    create.add_argument(
        "--notify",
        metavar="BLOCK_TYPE/BLOCK_NAME",
        help="notification block to send through, e.g. slack-webhook/reewatch-alerts (default: none, do-nothing)",
    )
    args = parser.parse_args(argv)
    notify = args.notify
    try:
        try:
            names = apply_automations(args.file, notify)
        except MissingNotifyBlock as missing:
            # Not a reason to leave the pool without deployments' automations, or a compose stack without its
            # worker (its `deploy` service must succeed): they are made without notifications, and said so.
            print(f"warning: {missing}; the automations are applied without notifications meanwhile", file=sys.stderr)
            notify = None
            names = apply_automations(args.file, None)
    except Exception as exc:  # one clear line for an operator, not a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    route = f"notifying through {notify}" if notify else "without notifications (do-nothing)"
    print(f"{len(names)} automation(s) applied, {route}:")
    for name in names:
        print(f"  - {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
