"""Settings, read from the environment once by whoever starts the program (CLI or tests)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Everything that differs between deployments.

    `database_url` empty means: use the embedded cluster in `data_dir`.
    """

    database_url: str = ""
    data_dir: Path = PROJECT_ROOT / ".geoservice"
    db_port: int = 54329
    host: str = "127.0.0.1"
    port: int = 5000
    public_url: str = ""  # base URL the API advertises; default http://host:port
    collections_dir: Path = PROJECT_ROOT / "collections"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        base = cls()
        return cls(
            database_url=env.get("DATABASE_URL", ""),
            data_dir=Path(env.get("GEOSERVICE_DATA_DIR", base.data_dir)),
            db_port=int(env.get("GEOSERVICE_DB_PORT", base.db_port)),
            host=env.get("GEOSERVICE_HOST", base.host),
            port=int(env.get("GEOSERVICE_PORT", base.port)),
            public_url=env.get("GEOSERVICE_PUBLIC_URL", ""),
            collections_dir=Path(env.get("GEOSERVICE_COLLECTIONS_DIR", base.collections_dir)),
        )

    @property
    def embedded(self) -> bool:
        return not self.database_url

    @property
    def dsn(self) -> str:
        """The connection string: DATABASE_URL, or the embedded cluster's."""
        if self.database_url:
            return self.database_url
        return f"postgresql://geoservice@127.0.0.1:{self.db_port}/geoservice"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
