"""Prefect flows: orchestration only (tasks, retries on I/O); the work itself lives in `reewatch`."""
