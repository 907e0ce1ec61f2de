"""The local audio store: whole files, keys it made itself, and nothing outside its folder."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from recordings.storage import LocalFolder, StorageError, new_key, sha256, store_from_settings


def test_a_file_put_is_read_back_whole_and_deleted_once(tmp_path: Path) -> None:
    store = LocalFolder(tmp_path)
    key = new_key("recordings", 2026, "ogg")

    store.put(key, b"audio bytes")

    assert store.get(key) == b"audio bytes"
    assert store.path(key) == tmp_path / key
    assert store.delete(key) is True
    assert store.delete(key) is False
    assert store.path(key) is None
    with pytest.raises(StorageError):
        store.get(key)


def test_a_write_that_fails_part_way_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalFolder(tmp_path)
    key = new_key("recordings", 2026, "ogg")

    def disk_full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    for _ in range(3):  # as the fetch job's retries would
        with pytest.raises(StorageError, match="No space left"):
            store.put(key, b"a customer's voice" * 1000)

    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


def test_keys_are_unguessable_and_never_leave_the_folder(tmp_path: Path) -> None:
    store = LocalFolder(tmp_path)
    assert new_key("prompts", 2026, "wav") != new_key("prompts", 2026, "wav")
    for bad in ("../etc/passwd", "recordings/2026/../../x.ogg", "/abs/2026/abcdefgh.ogg", "recordings/26/abcdefgh.ogg"):
        with pytest.raises(StorageError):
            store.get(bad)


def test_a_relative_folder_is_under_the_instance_folder(tmp_path: Path) -> None:
    store = store_from_settings("recordings", str(tmp_path))
    assert isinstance(store, LocalFolder) and store.root == tmp_path.resolve() / "recordings"
    assert sha256(b"x") == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
