"""``allowed.paths`` follows symlinks before it checks: a link inside an allowed folder that
leads outside it is refused, by the file and by the directory provider."""

from __future__ import annotations

from pathlib import Path

import pytest
from kconnect_builtins.config_providers import DirectoryConfigProvider, FileConfigProvider


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """(allowed folder, a secret file outside it)."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.properties"
    secret.write_text("root=the-shadow-secret\n", encoding="utf-8")
    (allowed / "ok.properties").write_text("name=fine\n", encoding="utf-8")
    return allowed, secret


def test_file_provider_refuses_a_symlink_leading_out_of_the_allowed_folder(layout) -> None:
    allowed, secret = layout
    (allowed / "link.properties").symlink_to(secret)
    provider = FileConfigProvider()
    provider.configure({"allowed.paths": str(allowed)})
    assert provider.get(str(allowed / "link.properties")).data == {}
    assert provider.get(str(allowed / "ok.properties")).data == {"name": "fine"}


def test_file_provider_refuses_a_path_through_a_linked_folder(layout) -> None:
    allowed, secret = layout
    (allowed / "escape").symlink_to(secret.parent, target_is_directory=True)
    provider = FileConfigProvider()
    provider.configure({"allowed.paths": str(allowed)})
    assert provider.get(str(allowed / "escape" / "secret.properties")).data == {}


def test_directory_provider_refuses_a_linked_directory_and_linked_files(layout) -> None:
    allowed, secret = layout
    (allowed / "escape").symlink_to(secret.parent, target_is_directory=True)
    mount = allowed / "mount"
    mount.mkdir()
    (mount / "stolen").symlink_to(secret)
    (mount / "own").write_text("value", encoding="utf-8")
    provider = DirectoryConfigProvider()
    provider.configure({"allowed.paths": str(allowed)})
    assert provider.get(str(allowed / "escape")).data == {}
    assert provider.get(str(mount)).data == {"own": "value"}


def test_links_that_stay_inside_and_an_allowed_folder_that_is_a_link_still_work(
    layout, tmp_path: Path
) -> None:
    allowed, _secret = layout
    # Kubernetes mounts secrets as links into a hidden folder of the same mount.
    data = allowed / "..data"
    data.mkdir()
    (data / "password").write_text("pw", encoding="utf-8")
    (allowed / "password").symlink_to(data / "password")
    alias = tmp_path / "alias"
    alias.symlink_to(allowed, target_is_directory=True)
    directory = DirectoryConfigProvider()
    directory.configure({"allowed.paths": str(alias)})
    assert directory.get(str(allowed), {"password"}).data == {"password": "pw"}
    files = FileConfigProvider()
    files.configure({"allowed.paths": str(alias)})
    assert files.get(str(alias / "ok.properties")).data == {"name": "fine"}
