"""Storage adapters behind small interfaces; only the app factory picks concrete ones."""


class StorageError(RuntimeError):
    """A backing store failed; driver errors are wrapped in this one type."""
