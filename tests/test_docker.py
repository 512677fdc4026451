"""The Docker deployment, read statically (no Docker engine runs where the tests do): the
pseudonym secret and the data dir must survive the container and be usable by its user.

The server container runs as an unprivileged user in a root-owned /app; without a secret
(GEOSERVICE_PSEUDONYM_KEY) the loaders create a key file in GEOSERVICE_DATA_DIR, which must
then be writable by that user and kept in a volume, or pseudonyms change with the container.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from geoservice.settings import PROJECT_ROOT

DOCKER = PROJECT_ROOT / "docker"
SERVICE = "geoservice"


def _compose() -> dict:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # ["KEY=value", ...]
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _mounts(service: dict) -> dict[str, str]:
    """{target: source} of the service's volumes (short and long syntax)."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            mounts[rest.split(":")[0]] = source
        else:
            mounts[volume["target"]] = volume.get("source", "")
    return mounts


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    out = []
    for line in lines:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _shell_commands(run: str) -> list[list[str]]:
    """A RUN line's commands, split at && and ;."""
    return [shlex.split(part) for part in re.split(r"&&|;", run) if part.strip()]


def test_the_service_requires_the_pseudonym_secret_from_the_host():
    env = _environment(_compose()["services"][SERVICE])
    value = env.get("GEOSERVICE_PSEUDONYM_KEY", "")
    # ${VAR:?message}: compose refuses to start without it, saying why
    assert re.fullmatch(r"\$\{GEOSERVICE_PSEUDONYM_KEY:\?[^}]+\}", value), value


def test_the_data_dir_is_a_named_volume():
    compose = _compose()
    service = compose["services"][SERVICE]
    data_dir = _environment(service).get("GEOSERVICE_DATA_DIR")
    assert data_dir and data_dir.startswith("/"), "the service must set GEOSERVICE_DATA_DIR"
    source = _mounts(service).get(data_dir.rstrip("/"))
    assert source, f"no volume mounted at {data_dir}"
    assert source in (compose.get("volumes") or {}), f"{source} is not a named volume"


def test_the_image_makes_the_data_dir_its_user_s():
    """Docker fills a new named volume from the image's directory, owner included."""
    data_dir = _environment(_compose()["services"][SERVICE]).get("GEOSERVICE_DATA_DIR", "")
    assert data_dir, "the service must set GEOSERVICE_DATA_DIR"
    data_dir = data_dir.rstrip("/")
    steps = _instructions(DOCKER / "Dockerfile")
    users = [i for i, (word, _) in enumerate(steps) if word == "USER"]
    assert users, "the image must not run as root"
    user = steps[users[-1]][1].split(":")[0]
    made = owned = False
    for word, args in steps[: users[-1]]:
        if word != "RUN":
            continue
        for command in _shell_commands(args):
            paths = [a.rstrip("/") for a in command[1:] if not a.startswith("-")]
            if command[:1] == ["mkdir"] and data_dir in paths:
                made = True
            if command[:1] == ["chown"] and data_dir in paths:
                owner = next(a for a in command[1:] if not a.startswith("-"))
                owned = owned or owner.split(":")[0] == user
    assert made, f"the Dockerfile must create {data_dir}"
    assert owned, f"{data_dir} must belong to {user}"
