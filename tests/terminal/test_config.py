"""The terminal's config file: typed settings, Russian errors that name the key, the demo defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from terminal.cli import terminal
from terminal.config import DEMO_DEFAULTS, ConfigError, load_config, resolve_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_config_file_is_read_with_paths_relative_to_it(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
db = "data/t.db"
staff = "Петрова М. И."
bell_on_refuse = false
[reader]
kind = "serial-line"
device = "/dev/ttyUSB0"
format = "ironlogic"
[sync]
server_url = "https://pitanie.example.ru"
token = "abc"
interval_s = 60
nightly_at = "03:15"
"""))
    assert config.db == tmp_path / "data" / "t.db"
    assert (config.staff, config.bell_on_refuse, config.demo) == ("Петрова М. И.", False, False)
    assert (config.reader.kind, config.reader.device) == ("serial-line", "/dev/ttyUSB0")
    assert config.sync.configured and config.sync.interval_s == 60 and config.sync.nightly_at == "03:15"


@pytest.mark.parametrize(("text", "expected"), [
    ("bell = true", "неизвестный ключ «bell»"),
    ("bell_on_refuse = 1", "ключ «bell_on_refuse» должен быть true или false"),
    ("staff = 5", "ключ «staff» должен быть строкой"),
    ("history = 50", "ключ «history» должен быть от 0 до 20"),
    ("[sync]\nserver = 'x'", "неизвестный ключ «server» в таблице [sync]"),
    ("[sync]\nserver_url = 'ftp://x'\ntoken = 't'", "ключ «server_url» должен начинаться с http://"),
    ("[sync]\nserver_url = 'https://x'", "нужен token"),
    ("[sync]\nnightly_at = '25:99'", "ключ «nightly_at» должен быть временем"),
    ("[reader]\nkind = 'laser'", "ошибка в таблице [reader]"),
    ("db = [", "ошибка синтаксиса TOML"),
])
def test_a_bad_config_is_refused_in_russian_naming_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    assert expected in str(error.value)
    assert str(tmp_path) in str(error.value)


def test_a_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="не найден"):
        load_config(tmp_path / "nope.toml")


def test_without_option_or_environment_the_demo_defaults_apply(tmp_path: Path) -> None:
    assert resolve_config(None, env={}) is DEMO_DEFAULTS
    assert DEMO_DEFAULTS.demo and DEMO_DEFAULTS.reader.kind == "sim"
    path = write(tmp_path, 'staff = "Из окружения"')
    assert resolve_config(None, env={"CANTEEN_CONFIG": str(path)}).staff == "Из окружения"


def test_the_command_reports_a_bad_config_without_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(terminal, ["--config", str(write(tmp_path, "colour = 'red'"))])
    assert result.exit_code == 2
    assert "ОШИБКА" in result.output and "неизвестный ключ «colour»" in result.output
    assert "Traceback" not in result.output


def test_the_command_refuses_a_terminal_without_local_data(tmp_path: Path) -> None:
    config = write(tmp_path, 'db = "missing.db"\n[reader]\nkind = "sim"')
    result = CliRunner().invoke(terminal, ["--config", str(config)])
    assert result.exit_code == 1
    assert "нет базы данных терминала" in result.output


def test_the_sync_table_is_parsed_by_the_shared_sync_parser_with_its_default(tmp_path: Path) -> None:
    from sync.config import DEFAULT_INTERVAL_S, SyncConfig, load_sync_file

    path = write(tmp_path, '[sync]\nserver_url = "https://pitanie.example.ru"\ntoken = "abc"\n')
    config = load_config(path)
    assert type(config.sync) is SyncConfig and config.sync.interval_s == DEFAULT_INTERVAL_S == 180
    assert config.sync == load_sync_file(path).sync  # `canteen sync --config` reads the same settings
    with pytest.raises(ConfigError, match="ключ «interval_s» должен быть числом секунд"):
        load_config(write(tmp_path, "[sync]\ninterval_s = 'often'"))
