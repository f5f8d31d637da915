"""Which task failures a retry can fix: storage I/O only. A parser bug retried is still a parser bug."""

from __future__ import annotations

from typing import Any

from prefect.cache_policies import NO_CACHE

from reewatch.lake import LakeError


def _storage_error(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except LakeError:
        return True
    except Exception:
        return False
    return False


# Options of every task that touches storage: three retries with backoff, on storage errors only.
STORAGE_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [1, 4, 15],
    "retry_condition_fn": _storage_error,
    "cache_policy": NO_CACHE,
}
