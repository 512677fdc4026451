"""The `geoservice` command: everything a user does, one subcommand each.

This is the one place that wires loaders and server together. Errors we expect print as
one line on stderr with a non-zero exit code; nothing prints a trace at a user.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from geoservice.errors import GeoserviceError
from geoservice.settings import Settings

if TYPE_CHECKING:  # imported where used: `geoservice --help` stays fast
    from geoservice.store.records import Entry
    from geoservice.store.registry import CollectionRecord
    from loaders.pipeline import LoadReport

console = Console(stderr=True)
out = Console()


class CLIGroup(click.Group):
    """Turns our errors into one clear line and exit code 1."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except GeoserviceError as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=CLIGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="geoservice")
@click.pass_context
def main(ctx: click.Context) -> None:
    """geoservice: publish a city's spatial layers as OGC API Features.

    With no DATABASE_URL, a local PostgreSQL+PostGIS cluster in .geoservice/ is used
    (started on demand). Set DATABASE_URL to use an existing PostGIS instead. Every setting
    (GEOSERVICE_*): the README's Configuration, or `geoservice settings`.
    """
    ctx.obj = Settings.from_env()  # a wrong value: one line naming the variable (ConfigError)


# -- database ------------------------------------------------------------------


@main.group()
def db() -> None:
    """Start, stop or inspect the local (embedded) database."""


@db.command("start")
@click.pass_obj
def db_start(settings: Settings) -> None:
    """Create (first time) and start the local PostGIS cluster."""
    from geoservice.store import db as database

    _require_embedded(settings)
    database.ensure_database(settings)
    out.print(
        f"local database running on 127.0.0.1:{settings.db_port} ({settings.data_dir / 'pgdata'})"
    )


@db.command("stop")
@click.pass_obj
def db_stop(settings: Settings) -> None:
    """Stop the local PostGIS cluster."""
    from geoservice.store.embedded import Cluster

    _require_embedded(settings)
    Cluster.from_settings(settings).stop()
    out.print("local database stopped")


@db.command("status")
@click.pass_obj
def db_status(settings: Settings) -> None:
    """Say which database is in use and whether it answers."""
    from geoservice.store import db as database

    if settings.embedded:
        from geoservice.store.embedded import Cluster

        cluster = Cluster.from_settings(settings)
        if not cluster.initialised():
            out.print("local database: not created yet (geoservice db start)")
            sys.exit(3)
        if not cluster.running():
            out.print(f"local database: stopped ({cluster.pgdata})")
            sys.exit(3)
    with database.connect(settings) as conn:
        version = conn.execute("SELECT postgis_full_version()").fetchone()[0].split('"')[1]
        where = "local" if settings.embedded else "DATABASE_URL"
        out.print(f"{where} database: running, PostGIS {version}")


def _require_embedded(settings: Settings) -> None:
    if not settings.embedded:
        raise click.ClickException(
            "DATABASE_URL is set: the server it names is managed outside geoservice"
        )


# -- loading --------------------------------------------------------------------


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--id", "collection_id", help="Collection id, when SOURCE is a data file.")
@click.option("--title", help="Title, when SOURCE is a data file (default: from the file name).")
@click.option(
    "--licence",
    "--license",
    "licence",
    help="The data file's licence, an SPDX id (e.g. ODbL-1.0): never assumed; a public layer "
    "needs one (a descriptor states it as `licence:`).",
)
@click.option("--licence-url", help="Where the data file's licence is to be read.")
@click.option("--layer", help="Layer to read from a multi-layer file (GeoPackage, ...).")
@click.option("--crs", help="Source CRS when the file has none or a wrong one, e.g. EPSG:2100.")
@click.option("--encoding", help="Text encoding of the source, e.g. cp1253 (default: detect).")
@click.option("--x-field", help="Coordinates table: column of x / longitude.")
@click.option("--y-field", help="Coordinates table: column of y / latitude.")
@click.option("--wkt-field", help="Coordinates table: column of WKT geometries.")
@click.option(
    "--allow-lossy-text",
    is_flag=True,
    default=None,
    help="Publish text damaged upstream (e.g. letters already '?') with a warning.",
)
@click.option(
    "--accept-changes",
    is_flag=True,
    help="Publish a reload that removes, renames or retypes fields or loses many features "
    "(it stops otherwise, showing what would change).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check everything and show what would change, without publishing anything.",
)
@click.pass_obj
def load(
    settings: Settings,
    source: Path,
    collection_id: str | None,
    title: str | None,
    licence: str | None,
    licence_url: str | None,
    layer: str | None,
    crs: str | None,
    encoding: str | None,
    x_field: str | None,
    y_field: str | None,
    wkt_field: str | None,
    allow_lossy_text: bool | None,
    accept_changes: bool,
    dry_run: bool,
) -> None:
    """Load a layer and publish it.

    SOURCE is a descriptor (collections/<id>.yml) or a data file with --id. The published
    layer is replaced atomically: if anything fails, what was published stays as it was.
    A resource descriptor (with `type: document | service | externalDataset`) publishes or
    updates a catalogue record only: no data is loaded.

    \b
    Examples:
      geoservice load collections/municipalities.yml
      geoservice load roads.shp --id roads --crs EPSG:2100 --licence ODbL-1.0
      geoservice load collections/cadastre-orthophotos-wms.yml
    """
    from geoservice.store import db as database
    from loaders import resources
    from loaders.descriptor import descriptor_for_file, load_descriptor
    from loaders.pipeline import load as run_load

    if source.suffix.lower() in (".yml", ".yaml") and resources.declares_resource(source):
        if collection_id or title:
            raise click.UsageError("--id/--title go with a data file; a descriptor names its own")
        if dry_run or accept_changes:
            raise click.UsageError(
                "--dry-run/--accept-changes go with a layer: a resource's record has no data"
            )
        database.ensure_database(settings)
        entry = resources.publish_file(settings, source)
        out.print(f"catalogued [bold]{entry.id}[/bold] ({entry.kind}, {len(entry.links)} links)")
        return
    if source.suffix.lower() in (".yml", ".yaml"):
        if collection_id or title or licence or licence_url:
            raise click.UsageError(
                "--id/--title/--licence go with a data file; a descriptor names its own"
            )
        given = {"--layer": layer, "--crs": crs, "--encoding": encoding, "--x-field": x_field,
                 "--y-field": y_field, "--wkt-field": wkt_field}  # fmt: skip
        if named := [option for option, value in given.items() if value]:
            raise click.UsageError(
                f"{', '.join(named)} go(es) with a data file; a descriptor says it in source:"
            )
        descriptor = load_descriptor(source)
        if allow_lossy_text:  # what the refusal of damaged text recommends, for this load
            source_options = descriptor.source.model_copy(update={"allow_lossy_text": True})
            descriptor = descriptor.model_copy(update={"source": source_options})
    else:
        if not collection_id:
            raise click.UsageError("a data file needs --id ID (or write a descriptor)")
        if not source.exists():
            raise click.ClickException(f"no such file: {source}")
        descriptor = descriptor_for_file(
            source,
            collection_id,
            title=title,
            licence=licence,
            licence_url=licence_url,
            layer=layer,
            crs=crs,
            encoding=encoding,
            x_field=x_field,
            y_field=y_field,
            wkt_field=wkt_field,
            allow_lossy_text=allow_lossy_text,
        )
    database.ensure_database(settings)
    with _ProgressSteps(descriptor.id) as steps:
        report = run_load(
            settings, descriptor, steps, accept_changes=accept_changes, dry_run=dry_run
        )
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if dry_run:
        _dry_run_result(report)
        return
    if report.changes and not report.changes.new:
        out.print(f"changes: {report.changes.summary()}", soft_wrap=True)
    encoding_note = (
        f", text {report.encoding} ({report.encoding_confidence:.0%} sure)"
        if report.encoding and report.encoding_confidence is not None
        else ""
    )
    out.print(
        f"published [bold]{report.collection_id}[/bold]: {report.feature_count} features "
        f"({report.geometry_type}, from {report.source_crs}{encoding_note}) "
        f"in {report.seconds:.1f} s; access: {_access(descriptor.model_dump())}"
    )


def _dry_run_result(report: LoadReport) -> None:
    """What a dry run found; exit code 1 when the load would stop."""
    out.print(
        f"dry run of [bold]{report.collection_id}[/bold], nothing published: "
        f"{report.changes.summary() if report.changes else ''}",
        soft_wrap=True,
    )
    if report.stopping:
        raise click.ClickException(
            f"a load would stop ({', '.join(report.stopping)} changed): load with "
            "--accept-changes, or allow them in the descriptor (accept_changes)"
        )
    out.print("a load would publish it")


def _access(descriptor: dict) -> str:
    """Who may see a layer, as `geoservice list` and a load say it."""
    access = descriptor.get("access") or "public"
    groups = descriptor.get("groups") or []
    return f"{access} ({', '.join(groups)})" if groups else access


class _ProgressSteps:
    """Shows the load's steps and a bar while rows are written."""

    def __init__(self, collection_id: str):
        self.progress = Progress(
            TextColumn(f"{collection_id}: {{task.description}}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = None

    def __enter__(self) -> _ProgressSteps:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def stage(self, name: str, total: int | None = None) -> None:
        if self.task is None:
            self.task = self.progress.add_task(name, total=total)
        else:
            self.progress.update(self.task, description=name, total=total, completed=0)

    def advance(self, n: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)


@main.command("list")
@click.pass_obj
def list_collections(settings: Settings) -> None:
    """List the published collections, then the catalogued resources (documents, services)."""
    from geoservice.store import db as database
    from geoservice.store import registry
    from loaders import resources

    database.ensure_database(settings)
    with database.connect(settings) as conn:
        records = registry.list_collections(conn)
        catalogued = resources.list_resources(conn)
    if not records and not catalogued:
        out.print("nothing is published yet: geoservice load collections/<id>.yml")
        return
    if records:
        _list_layers(records)
    if catalogued:
        _list_resources(catalogued)


def _list_resources(entries: list[Entry]) -> None:
    rows = [
        (e.id, e.kind, (e.updated or "")[:16].replace("T", " "), e.title["en"]) for e in entries
    ]
    if not out.is_terminal:  # scripts: the same columns as layers, counts and CRS empty
        for id_, kind, updated, title in rows:
            click.echo("\t".join((id_, "", kind, "", updated, title)))
        return
    table = Table(box=None, title="catalogued resources (no data here)", title_justify="left")
    for name in ("id", "type", "updated"):
        table.add_column(name, no_wrap=True)
    table.add_column("title (en)", overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def _list_layers(records: list[CollectionRecord]) -> None:
    rows = [
        (
            r.id,
            str(r.feature_count),
            r.geometry_type,
            r.source_crs,
            r.updated_at.strftime("%Y-%m-%d %H:%M"),
            _access(r.descriptor),
            r.descriptor["title"]["en"],
        )
        for r in records
    ]
    if not out.is_terminal:  # scripts get whole values, tab-separated
        for row in rows:
            click.echo("\t".join(row))
        return
    table = Table(box=None)
    for name in ("id", "features", "geometry", "source CRS", "updated", "access"):
        table.add_column(name, no_wrap=True)
    table.add_column("title (en)", overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table)


@main.command()
@click.argument("collection_id", required=False)
@click.option("--limit", type=click.IntRange(1), default=30, show_default=True, help="Rows.")
@click.pass_obj
def history(settings: Settings, collection_id: str | None, limit: int) -> None:
    """Show the recent loads (successful and failed), removals and undos: of one
    collection, or of every one without COLLECTION_ID."""
    from geoservice.store import db as database
    from geoservice.store import registry

    database.ensure_database(settings)
    with database.connect(settings) as conn:
        rows = registry.history(conn, collection_id, limit)
    if not rows:
        if collection_id:
            raise click.ClickException(f"no loads recorded for '{collection_id}'")
        out.print("nothing loaded yet")
        return
    columns = ("when", "status", "features", "seconds", "warnings / error")
    table = Table(*(columns if collection_id else ("layer", *columns)))
    lines = []
    for r in rows:
        # A warning is stored as text, or as {"en", "el"} (loaders.notices): English here.
        warnings = [w if isinstance(w, str) else w.get("en", str(w)) for w in r["warnings"] or []]
        note = r["note"] or "; ".join(warnings)
        cells = (
            r["at"].strftime("%Y-%m-%d %H:%M:%S"),
            r["status"],
            "" if r["feature_count"] is None else str(r["feature_count"]),
            "" if r["seconds"] is None else f"{r['seconds']:.1f}",
            note[:200],
        )
        lines.append(cells if collection_id else (r["collection_id"], *cells))
    if not out.is_terminal:  # scripts get whole values, tab-separated
        for line in lines:
            click.echo("\t".join(line))
        return
    for line in lines:
        table.add_row(*line)
    out.print(table)


@main.command()
@click.argument("collection_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts).")
@click.pass_obj
def remove(settings: Settings, collection_id: str, yes: bool) -> None:
    """Unpublish a collection (or remove a catalogued resource's record).

    Asks for confirmation on a terminal; elsewhere (a script) it refuses unless --yes. The
    layer's last version is kept GEOSERVICE_KEEP_DAYS days: `geoservice undo ID` publishes
    it again.
    """
    from geoservice.store import db as database
    from geoservice.store import registry
    from loaders import resources
    from loaders.writer import purge_kept, remove_collection

    database.ensure_database(settings)
    with database.connect(settings, autocommit=True) as conn:
        resource = resources.is_resource(conn, collection_id)
        if not resource:
            registry.get_collection(conn, collection_id)  # NotFound: nothing to confirm
        if not yes:
            _confirm_removal(settings, collection_id, resource)
        if resource:
            resources.remove(conn, collection_id)
        else:
            purge_kept(conn, settings.keep_days)
            remove_collection(conn, collection_id, keep=settings.keep_days > 0)
    days = f"{settings.keep_days:g} days"
    kept = (
        f"; `geoservice undo {collection_id}` publishes it again within {days}"
        if not resource and settings.keep_days > 0
        else ""
    )
    out.print(f"removed {collection_id}{kept}", soft_wrap=True)


def _confirm_removal(settings: Settings, collection_id: str, resource: bool) -> None:
    if not sys.stdin.isatty():
        raise click.ClickException(
            f"remove {collection_id}: no terminal to confirm on; "
            f"add --yes to remove it from a script"
        )
    what = "the catalogue record" if resource else "the layer"
    undo = (
        f" (`geoservice undo {collection_id}` brings it back within {settings.keep_days:g} days)"
        if not resource and settings.keep_days > 0
        else " (it cannot be undone)"
    )
    click.confirm(f"Remove {what} {collection_id}{undo}?", abort=True, err=True)


@main.command()
@click.argument("collection_id")
@click.pass_obj
def undo(settings: Settings, collection_id: str) -> None:
    """Publish the last version of a replaced or removed layer again (kept
    GEOSERVICE_KEEP_DAYS days). What it replaces is kept in turn: undo again to return."""
    from geoservice.store import db as database
    from loaders.writer import purge_kept
    from loaders.writer import undo as undo_layer

    database.ensure_database(settings)
    with database.connect(settings, autocommit=True) as conn:
        purge_kept(conn, settings.keep_days)
        kept = undo_layer(conn, collection_id, keep=settings.keep_days > 0)
    out.print(
        f"published {collection_id} again as it was before it was {kept.reason} "
        f"({kept.kept_at:%Y-%m-%d %H:%M}): {kept.record['feature_count']} features",
        soft_wrap=True,
    )


# -- backup -----------------------------------------------------------------------


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_obj
def backup(settings: Settings, file: Path) -> None:
    """Save every collection, catalogue record and the load history to FILE.

    FILE is a pg_dump archive (custom format) of the schemas geoservice and data; it is
    written under a temporary name and renamed when complete.
    """
    from geoservice.store import backup as backups

    contents = backups.backup(settings, file)
    size = file.stat().st_size / 1e6
    out.print(f"backed up {contents} to {file} ({size:.1f} MB)", soft_wrap=True)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--force", is_flag=True, help="Replace what the database holds now (in one transaction)."
)
@click.pass_obj
def restore(settings: Settings, file: Path, force: bool) -> None:
    """Restore a backup written by `geoservice backup`.

    Into an empty database; a database that holds collections, records or loads is refused
    unless --force, which replaces them in one transaction (a failure changes nothing).
    A running server picks the restored catalogue up within a second.
    """
    from geoservice.store import backup as backups

    contents = backups.restore(settings, file, force=force)
    out.print(f"restored {contents} from {file}", soft_wrap=True)


# -- serving ----------------------------------------------------------------------


# -- API keys ------------------------------------------------------------------


@main.group()
def keys() -> None:
    """API keys for staff and partners (internal and restricted collections)."""


@keys.command("create")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(["staff", "admin"]),
    help="staff: sees internal collections (default when no --group); admin: everything.",
)
@click.option("--group", "groups", multiple=True, help="A group of restricted collections.")
@click.option("--days", type=int, help="Expires after this many days (default: never).")
@click.pass_obj
def keys_create(
    settings: Settings, name: str, roles: tuple[str, ...], groups: tuple[str, ...], days: int | None
) -> None:
    """Create a key and print it (once: only its hash is kept)."""
    from geoservice.server import api_keys
    from geoservice.store import db as database

    database.ensure_database(settings)
    chosen = list(roles) or ([] if groups else ["staff"])
    with database.connect(settings, autocommit=True) as conn:
        key = api_keys.create(conn, name, chosen, list(groups), days)
    granted = f"roles: {', '.join(chosen) or 'none'}; groups: {', '.join(groups) or 'none'}"
    console.print(
        f"key '{name}' ({granted}): store it now, it is not shown again. "
        "Send it as 'Authorization: Bearer <key>':"
    )
    click.echo(key)


@keys.command("list")
@click.pass_obj
def keys_list(settings: Settings) -> None:
    """List keys (names, prefixes, roles, groups; never the keys)."""
    from geoservice.server import api_keys
    from geoservice.store import db as database

    database.ensure_database(settings)
    with database.connect(settings) as conn:
        rows = api_keys.list_keys(conn)
    table = Table("name", "prefix", "roles", "groups", "created", "expires", "state", box=None)
    for k in rows:
        table.add_row(
            k.name,
            f"gsk_{k.prefix}_…",
            ", ".join(k.roles),
            ", ".join(k.groups),
            k.created_at.strftime("%Y-%m-%d"),
            k.expires_at.strftime("%Y-%m-%d") if k.expires_at else "never",
            "active" if k.active else ("revoked" if k.revoked_at else "expired"),
        )
    out.print(table)


@keys.command("revoke")
@click.argument("name")
@click.pass_obj
def keys_revoke(settings: Settings, name: str) -> None:
    """Revoke a key (servers stop accepting it within 10 seconds)."""
    from geoservice.server import api_keys
    from geoservice.store import db as database

    database.ensure_database(settings)
    with database.connect(settings, autocommit=True) as conn:
        api_keys.revoke(conn, name)
    out.print(f"revoked {name}")


@keys.command("delete")
@click.argument("name")
@click.pass_obj
def keys_delete(settings: Settings, name: str) -> None:
    """Delete a key, active or revoked (servers stop accepting it within 10 seconds); its
    name can then be given to a new key."""
    from geoservice.server import api_keys
    from geoservice.store import db as database

    database.ensure_database(settings)
    with database.connect(settings, autocommit=True) as conn:
        api_keys.delete(conn, name)
    out.print(f"deleted {name}")


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 5000).")
@click.option("--workers", type=int, default=2, show_default=True, help="Worker processes.")
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    """Serve OGC API Features (and the HTML pages) until interrupted."""
    from geoservice.server import serving
    from geoservice.store import db as database

    serving.exec_with_malloc_environment(sys.argv[1:])
    settings = settings.replace(host=host or settings.host, port=port or settings.port)
    _check_server_config(settings)
    database.ensure_database(settings)
    out.print(f"serving on {settings.base_url}  (Ctrl+C to stop)")
    _run_server(settings, workers)


@main.command()
@click.option("--port", type=int, default=None, help="Port (default 5000).")
@click.option("--no-serve", is_flag=True, help="Load the sample layers, then exit.")
@click.pass_obj
def demo(settings: Settings, port: int | None, no_serve: bool) -> None:
    """Start the local database, load the Thessaloniki sample layers, serve them."""
    from geoservice.store import db as database
    from loaders import resources
    from loaders.descriptor import load_descriptor
    from loaders.pipeline import load as run_load

    if not no_serve:
        from geoservice.server import serving

        serving.exec_with_malloc_environment(sys.argv[1:])
    settings = settings.replace(port=port or settings.port)
    if not no_serve:
        _check_server_config(settings)
    database.ensure_database(settings)
    for path in sorted(settings.collections_dir.glob("*.yml")):
        if resources.declares_resource(path):
            entry = resources.publish_file(settings, path)
            out.print(f"catalogued {entry.id}: {entry.kind}")
            continue
        descriptor = load_descriptor(path)
        with _ProgressSteps(descriptor.id) as steps:
            report = run_load(settings, descriptor, steps)
        out.print(
            f"published {report.collection_id}: {report.feature_count} features; "
            f"access: {_access(descriptor.model_dump())}"
        )
    if no_serve:
        return
    out.print(f"serving on {settings.base_url}  (open it in a browser or QGIS; Ctrl+C to stop)")
    _run_server(settings, workers=2)


@main.command("settings")
@click.pass_obj
def show_settings(settings: Settings) -> None:
    """List every setting: its variable, the value in force (secrets hidden), its meaning."""
    table = Table("variable", "value", "meaning")
    for name in Settings.model_fields:
        value = getattr(settings, name)
        shown = ",".join(value) if isinstance(value, tuple) else str(value)
        shown = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", shown)  # a password in DATABASE_URL
        table.add_row(Settings.variable(name), shown, Settings.model_fields[name].description)
    out.print(table)


def _check_server_config(settings: Settings) -> None:
    """A wrong config/server.yml identity: one line now, not an error page later."""
    from geoservice.server import identity

    identity.of(settings)


def _run_server(settings: Settings, workers: int) -> None:
    from geoservice.server import serving

    serving.run(settings, workers)
