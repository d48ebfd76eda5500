"""Settings read from the environment: the key passphrases."""

from __future__ import annotations

from pathlib import Path

from registry.settings import KeyFileSettings, Settings


def test_the_key_file_passphrase_comes_from_starmark_key_passphrase() -> None:
    assert KeyFileSettings.from_env({"STARMARK_KEY_PASSPHRASE": "秘密 words"}).passphrase == (
        "秘密 words".encode()
    )
    # Unset or empty: there is none, and no development stand-in either.
    assert KeyFileSettings.from_env({}).passphrase is None
    assert KeyFileSettings.from_env({"STARMARK_KEY_PASSPHRASE": ""}).passphrase is None
    assert "secret" not in repr(KeyFileSettings(passphrase=b"secret"))


def test_hosted_keys_use_the_same_passphrase_or_the_insecure_stand_in(tmp_path: Path) -> None:
    env = {"STARMARK_DATA_DIR": str(tmp_path / "data"), "STARMARK_KEY_PASSPHRASE": "chosen"}
    assert Settings.from_env(env).keys.passphrase == b"chosen"
    assert not (tmp_path / "data").exists()
    stand_in = Settings.from_env({"STARMARK_DATA_DIR": str(tmp_path / "data")})
    path = tmp_path / "data" / "INSECURE-dev-key-passphrase"
    assert stand_in.keys.passphrase == path.read_text().encode()


def test_the_import_worker_settings_come_from_the_environment() -> None:
    import pytest

    from registry.settings import ConfigurationError, ImportSettings

    assert ImportSettings.from_env({}) == ImportSettings(
        worker=True, lease_seconds=60, poll_seconds=2
    )
    chosen = ImportSettings.from_env(
        {
            "STARMARK_IMPORT_WORKER": "off",
            "STARMARK_IMPORT_LEASE_SECONDS": "30",
            "STARMARK_IMPORT_POLL_SECONDS": "0.5",
        }
    )
    assert chosen == ImportSettings(worker=False, lease_seconds=30, poll_seconds=0.5)
    with pytest.raises(ConfigurationError, match="STARMARK_IMPORT_LEASE_SECONDS"):
        ImportSettings.from_env({"STARMARK_IMPORT_LEASE_SECONDS": "soon"})
    with pytest.raises(ConfigurationError, match="STARMARK_IMPORT_WORKER"):
        ImportSettings.from_env({"STARMARK_IMPORT_WORKER": "maybe"})
