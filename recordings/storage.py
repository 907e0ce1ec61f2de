"""The storage port for audio files (recordings, prompts), and its local-folder adapter.

The port is four verbs on opaque keys, so an S3-compatible store can stand in later without the
rest of the app changing. Keys are made here, never from user input: nothing can climb out of the
folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import Protocol, runtime_checkable

_KEY = re.compile(r"^[a-z]+/[0-9]{4}/[A-Za-z0-9_-]{8,64}\.[a-z0-9]{2,4}$")


class StorageError(Exception):
    """A file could not be written, read or deleted."""


@runtime_checkable
class AudioStore(Protocol):
    """Where audio files are kept."""

    def put(self, key: str, data: bytes) -> None:
        """Write the whole file, atomically: a reader sees the old file or the new, never half."""
        ...

    def get(self, key: str) -> bytes:
        """The whole file; StorageError if it is missing."""
        ...

    def path(self, key: str) -> Path | None:
        """A local path to serve the file from (with range requests), or None for a remote store."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the file; False if it was not there."""
        ...


def new_key(kind: str, year: int, suffix: str) -> str:
    """A fresh, unguessable key such as 'recordings/2026/Xy...Q.ogg'."""
    key = f"{kind}/{year:04d}/{secrets.token_urlsafe(18)}.{suffix}"
    check_key(key)
    return key


def check_key(key: str) -> None:
    """Refuse anything that is not a key `new_key` could have made."""
    if not _KEY.fullmatch(key):
        raise StorageError(f"not a storage key: {key!r}")


def sha256(data: bytes) -> str:
    """The checksum stored with each file."""
    return hashlib.sha256(data).hexdigest()


class LocalFolder:
    """Files under one folder (RECORDINGS_DIR)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _file(self, key: str) -> Path:
        check_key(key)
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        target = self._file(key)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(target)
        except OSError as exc:
            # A part written before a full disk is a customer's voice that nothing would ever find again.
            tmp.unlink(missing_ok=True)
            raise StorageError(f"could not write {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._file(key).read_bytes()
        except OSError as exc:
            raise StorageError(f"could not read {key}: {exc}") from exc

    def path(self, key: str) -> Path | None:
        target = self._file(key)
        return target if target.is_file() else None

    def delete(self, key: str) -> bool:
        try:
            self._file(key).unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageError(f"could not delete {key}: {exc}") from exc
        return True


def store_from_settings(recordings_dir: str, instance_path: str) -> AudioStore:
    """The store the settings name: RECORDINGS_DIR, relative to the instance folder unless absolute."""
    root = Path(recordings_dir)
    if not root.is_absolute():
        root = Path(instance_path).resolve() / root
    return LocalFolder(root)
