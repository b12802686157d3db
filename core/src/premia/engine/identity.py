"""Participants in the store and the resolution of owner references to them.

An owner reference (a CRM user id, an owner name in a file) resolves, in this order, through
the participant's explicit ``ids`` for that source, their key or email, their name and their
aliases. Matching is case-insensitive and ignores surrounding and repeated spaces. A
reference two participants share at the same level (two people named "Ana Ruiz") matches
nobody and is reported as ambiguous in the sync report: give them ``ids`` or emails.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from premia.program import Participant, Program
from premia.store import schema as s


def normalise(ref: str) -> str:
    """Return the form of an owner reference used for matching."""
    return " ".join(ref.split()).casefold()


def sync_participants(conn: Connection, program: Program) -> dict[str, int]:
    """Upsert the roster into ``participants``; return participant key -> id.

    Participants no longer in the roster are kept (their history stays explainable) but
    marked inactive.
    """
    existing = {
        row.key: row.id for row in conn.execute(select(s.participants.c.key, s.participants.c.id))
    }
    roster_keys = set()
    for p in program.participants:
        roster_keys.add(p.key)
        values = {
            "name": p.name,
            "email": p.email,
            "role": p.role,
            "channel": p.channel,
            "region": p.region,
            "manager": p.manager,
            "attributes": dict(p.attributes),
            "active": True,
        }
        if p.key in existing:
            conn.execute(
                update(s.participants)
                .where(s.participants.c.id == existing[p.key])
                .values(**values)
            )
        else:
            result = conn.execute(s.participants.insert().values(key=p.key, **values))
            existing[p.key] = int(result.inserted_primary_key[0])  # type: ignore[index]
    gone = set(existing) - roster_keys
    if gone:
        conn.execute(
            update(s.participants).where(s.participants.c.key.in_(gone)).values(active=False)
        )
    return existing


class OwnerResolver:
    """Resolves the owner references of one source to participant ids.

    Args:
        source: the source name (explicit ``ids`` are per source).
        participants: the program's participants.
        ids: participant key -> store id.
    """

    def __init__(self, source: str, participants: list[Participant], ids: dict[str, int]):
        table: dict[str, int] = {}
        # Levels from the highest priority down: a reference matched at a higher level is
        # never taken over by a lower one. Within one level, a reference that two people
        # share (two "Ana Ruiz") is ambiguous and matches nobody: it is reported, not guessed.
        levels: list[list[tuple[str, int]]] = [
            [(ref, ids[p.key]) for p in participants for ref in p.ids.get(source, ())],
            [(ref, ids[p.key]) for p in participants for ref in (p.key, p.email) if ref],
            [(p.name, ids[p.key]) for p in participants],
            [(alias, ids[p.key]) for p in participants for alias in p.aliases],
        ]
        ambiguous: set[str] = set()
        for level in levels:
            found: dict[str, int] = {}
            for ref, pid in level:
                norm = normalise(ref)
                if norm in table:
                    continue
                if found.get(norm, pid) != pid:
                    ambiguous.add(norm)
                found[norm] = pid
            for norm, pid in found.items():
                if norm not in ambiguous:
                    table[norm] = pid
        self._table = table
        self.ambiguous = ambiguous
        self._cache: dict[str, int | None] = {}
        self.unmatched: dict[str, int] = {}

    def resolve(self, ref: str | None) -> int | None:
        """Return the participant id of ``ref``, or ``None`` (counted in :attr:`unmatched`)."""
        if ref is None:
            return None
        try:
            found = self._cache[ref]
        except KeyError:
            found = self._cache[ref] = self._table.get(normalise(ref))
        if found is None:
            shown = f"{ref} (ambiguous)" if normalise(ref) in self.ambiguous else ref
            self.unmatched[shown] = self.unmatched.get(shown, 0) + 1
        return found
