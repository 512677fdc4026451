"""What a reload would change in a published layer, and whether that stops it.

A reload that removes or renames fields, changes their types, or loses more than
`settings.feature_loss_limit` of the features stops before publishing, unless the operator
accepts (`geoservice load ... --accept-changes`) or the descriptor does
(`accept_changes: [fields, features]`). A first load changes nothing that was published.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from geoservice.errors import LoadError
from geoservice.store.registry import CollectionRecord
from loaders.model import PreparedLayer
from loaders.notices import Notice, joined

KINDS = ("fields", "features")


@dataclass
class Changes:
    features_before: int | None  # None: a new layer
    features_after: int
    removed: list[str] = field(default_factory=list)  # published field names
    added: list[str] = field(default_factory=list)
    retyped: list[tuple[str, str, str]] = field(default_factory=list)  # (name, before, after)

    @property
    def new(self) -> bool:
        return self.features_before is None

    def lost_share(self) -> float:
        before = self.features_before or 0
        return max(before - self.features_after, 0) / before if before else 0.0

    def stopping(self, limit: float) -> list[str]:
        """The kinds of change (KINDS) that stop the reload unless accepted."""
        kinds = []
        if self.removed or self.retyped:
            kinds.append("fields")
        if self.lost_share() > limit:
            kinds.append("features")
        return kinds

    def summary(self) -> Notice:
        """One line: the feature count before -> after, then the fields' changes."""
        if self.new:
            return Notice("new layer: {count} feature(s)", count=self.features_after)
        parts = [
            Notice(
                "features: {before} → {after}",
                before=self.features_before,
                after=self.features_after,
            )
        ]
        if self.removed:
            parts.append(Notice("fields removed: {names}", names=", ".join(self.removed)))
        if self.added:
            parts.append(Notice("fields added: {names}", names=", ".join(self.added)))
        if self.retyped:
            retyped = ", ".join(f"{name} {old} → {new}" for name, old, new in self.retyped)
            parts.append(Notice("fields retyped: {names}", names=retyped))
        return joined(parts, "; ")


class ChangesRefused(LoadError):
    """A reload stopped before publishing: it would change the layer in ways not accepted."""

    def __init__(self, collection_id: str, changes: Changes, kinds: list[str]):
        self.changes, self.kinds = changes, kinds
        self.notice = Notice(
            "{id}: not published, the reload would change the layer ({summary}); "
            "nothing was changed. Load it again with --accept-changes to publish it, or "
            "allow these changes in the descriptor (accept_changes: [{kinds}])",
            id=collection_id,
            summary=changes.summary(),
            kinds=", ".join(kinds),
        )
        super().__init__(self.notice)  # a Notice: the history keeps it in Greek too


def compare(published: CollectionRecord | None, layer: PreparedLayer) -> Changes:
    """The published layer (its registry record) against the one prepared."""
    after = len(layer.frame)
    if published is None:
        return Changes(None, after)
    old = {f["name"]: f["type"] for f in published.fields}
    new = {f.name: f.type for f in layer.fields}
    return Changes(
        features_before=int(published.feature_count),
        features_after=after,
        removed=[name for name in old if name not in new],
        added=[name for name in new if name not in old],
        retyped=[(n, old[n], new[n]) for n in old if n in new and old[n] != new[n]],
    )


def check(collection_id: str, changes: Changes, accepted: Collection[str], limit: float) -> None:
    """Raise ChangesRefused when the changes stop the reload and are not all accepted."""
    kinds = [kind for kind in changes.stopping(limit) if kind not in accepted]
    if kinds:
        raise ChangesRefused(collection_id, changes, kinds)
