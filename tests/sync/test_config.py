"""The one parser of the `[sync]` table: typed settings, one default interval, Russian errors naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sync.config import DEFAULT_INTERVAL_S, ConfigError, SyncConfig, load_sync_file, parse_sync


def test_an_empty_table_is_offline_with_the_documented_defaults() -> None:
    settings = parse_sync({}, "f.toml")
    assert settings == SyncConfig() and not settings.configured
    assert settings.interval_s == DEFAULT_INTERVAL_S == 180 and settings.nightly_at == "02:30"


def test_a_full_table_is_typed() -> None:
    settings = parse_sync({"server_url": "https://pitanie.example.ru", "token": "sch1-T1.x", "interval_s": 60,
                           "nightly_at": ""}, "f.toml")
    assert settings.configured and settings.interval_s == 60.0 and isinstance(settings.interval_s, float)
    assert settings.nightly_at == ""  # disabled


@pytest.mark.parametrize(("table", "key", "text"), [
    ({"server": "x"}, "server", "неизвестный ключ «server» в таблице [sync]"),
    ({"server_url": 5}, "server_url", "ключ «server_url» должен быть строкой"),
    ({"server_url": "https://x"}, "token", "ключ «token» обязателен"),
    ({"server_url": "ftp://x", "token": "t"}, "server_url", "ключ «server_url» должен начинаться с http://"),
    ({"interval_s": "60"}, "interval_s", "ключ «interval_s» должен быть числом секунд"),
    ({"interval_s": True}, "interval_s", "ключ «interval_s» должен быть числом секунд"),
    ({"interval_s": 1}, "interval_s", "ключ «interval_s» должен быть не меньше 5 секунд"),
    ({"nightly_at": "25:99"}, "nightly_at", "ключ «nightly_at» должен быть временем ЧЧ:ММ"),
])
def test_a_wrong_key_is_named_in_a_russian_error(table: dict[str, Any], key: str, text: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_sync(table, "файл настроек f.toml")
    assert text in str(error.value) and str(error.value).startswith("файл настроек f.toml")


def test_the_sync_commands_read_the_store_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "terminal.toml"
    path.write_text('db = "data/t.db"\n[sync]\nserver_url = "http://127.0.0.1:1"\ntoken = "sch1-T1.x"\n',
                    encoding="utf-8")
    loaded = load_sync_file(path)
    assert loaded.db == tmp_path / "data" / "t.db" and loaded.sync.token == "sch1-T1.x"
    assert loaded.sync.interval_s == DEFAULT_INTERVAL_S
