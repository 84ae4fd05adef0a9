"""The default remote's name read from DVC's config files without importing
dvc (record paid 0.3 s for that import where no project file names one) is
DVC's own answer: each level alone, the more specific level winning, section
names in any case, quoted values, an empty value, and a file that is not
plain INI (left to DVC)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlver.adapters import dvc
from mlver.errors import DvcConfigInvalid

CORE = "[core]\n    remote = {}\n"
REMOTE = "['remote \"{0}\"']\n    url = /tmp/{0}\n"


def _answers(root: Path) -> tuple[object, object]:
    def ask(how: object) -> object:
        try:
            return how(root)  # type: ignore[operator]
        except DvcConfigInvalid as exc:
            return type(exc)

    return ask(dvc.default_remote_name), ask(lambda r: dvc.remotes(r)[1])


def test_default_remote_name_is_dvcs_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "project"
    (root / ".dvc").mkdir(parents=True)
    levels = {
        "local": root / ".dvc" / "config.local",
        "repo": root / ".dvc" / "config",
        "global": Path(os.environ["DVC_GLOBAL_CONFIG_DIR"]) / "config",
        "system": Path(os.environ["DVC_SYSTEM_CONFIG_DIR"]) / "config",
    }
    for file in levels.values():
        file.parent.mkdir(parents=True, exist_ok=True)
    cases: list[tuple[dict[str, str], object]] = [
        ({}, None),
        ({"repo": REMOTE.format("a")}, None),  # a remote, no default
        ({"system": CORE.format("s")}, "s"),
        ({"global": CORE.format("g")}, "g"),
        ({"global": CORE.format("g"), "system": CORE.format("s")}, "g"),
        ({"repo": REMOTE.format("a"), "global": CORE.format("g")}, "g"),
        ({"repo": CORE.format("r"), "global": CORE.format("g")}, "r"),
        ({"local": CORE.format("l"), "repo": CORE.format("r"), "system": CORE.format("s")}, "l"),
        ({"global": "[CORE]\n    remote = upper\n"}, "upper"),
        ({"global": "[core]\n    REMOTE = 'quoted'\n"}, "quoted"),
        ({"repo": "[core]\n    autostage = true\n", "system": CORE.format("s")}, "s"),
        # configobj's triple quotes are not INI: DVC reads that file (a name over two lines).
        ({"global": '[core]\n    remote = """two\nlines"""\n', "system": CORE.format("s")}, "two\nlines"),
    ]
    for files, expected in cases:
        for level, file in levels.items():
            if level in files:
                file.write_text(files[level])
            else:
                file.unlink(missing_ok=True)
        assert _answers(root) == (expected, expected), files
    # Without the variables, the folders are platformdirs' (XDG here), as for DVC.
    monkeypatch.delenv("DVC_GLOBAL_CONFIG_DIR")
    xdg = Path(os.environ["XDG_CONFIG_HOME"]) / "dvc" / "config"
    xdg.parent.mkdir(parents=True)
    xdg.write_text(CORE.format("xdg"))
    for file in levels.values():
        file.unlink(missing_ok=True)
    assert _answers(root) == ("xdg", "xdg")
