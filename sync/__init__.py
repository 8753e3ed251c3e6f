"""The sync engine: ledger, runs, checkpoints, thin Celery tasks and the dispatcher."""
