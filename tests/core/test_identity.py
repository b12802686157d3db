"""Owner references resolve to participants: by id per source, email, name, alias."""

from __future__ import annotations

from collections import Counter

import pytest

from premia.engine.identity import OwnerResolver, normalise
from premia.program import Participant

ANA = {
    "name": "Ana Silva",
    "email": "Ana.Silva@Example.com",
    "ids": {"crm": ["005A0000001"]},
}
BEN = {"name": "Ben Okafor", "email": "ben@example.com", "aliases": ["B. Okafor", "Benny"]}
ZED = {"name": "Zed Unknown", "email": "zed@example.com"}


def program(kit, roster):
    return kit.program_dict(
        sources=[
            {"name": "crm", "type": "memory", "settings": {"feed": "crm"}},
            {"name": "files", "type": "memory", "settings": {"feed": "files"}},
        ],
        roster={"participants": roster},
        rules=[
            {"name": "per_deal", "type": "every", "metric": "won_deals", "reward": {"points": 5}}
        ],
    )


def owners(kit, runtime) -> dict[str, str | None]:
    keys = kit.keys(runtime)
    return {
        f"{f['source']}:{f['external_id']}": keys.get(f["participant_id"])
        for f in kit.rows(runtime, "facts")
    }


def test_owner_refs_resolve_every_way(kit, feeds, sqlite_url) -> None:
    crm, files = feeds("crm"), feeds("files")
    crm.put(
        kit.deal("by-id", "005A0000001"),
        kit.deal("by-id-case", " 005a0000001 "),
        kit.deal("by-email", "ANA.SILVA@example.COM"),
        kit.deal("by-name", "  ana   SILVA "),
        kit.deal("by-alias", "b. okafor"),
        kit.deal("by-alias-2", "BENNY"),
        kit.deal("ben-email", "ben@example.com"),
        kit.deal("stranger", "Zed Unknown"),
        kit.deal("stranger-2", "zed unknown"),
        kit.deal("no-owner", None),
    )
    # Explicit ids are per source: the crm id means nothing in the files source.
    files.put(kit.deal("id-elsewhere", "005A0000001"), kit.deal("name", "Ben Okafor"))
    runtime = kit.open(program(kit, [ANA, BEN]), sqlite_url)
    report = kit.sync(runtime)
    ana, ben = "ana.silva@example.com", "ben@example.com"  # the key is the email, lower case
    assert owners(kit, runtime) == {
        "crm:by-id": ana,
        "crm:by-id-case": ana,
        "crm:by-email": ana,
        "crm:by-name": ana,
        "crm:by-alias": ben,
        "crm:by-alias-2": ben,
        "crm:ben-email": ben,
        "crm:stranger": None,
        "crm:stranger-2": None,
        "crm:no-owner": None,
        "files:id-elsewhere": None,
        "files:name": ben,
    }
    # Unmatched owners are counted per reference as given (a fact without owner is not).
    assert report.unmatched_owners == Counter(
        {"Zed Unknown": 1, "zed unknown": 1, "005A0000001": 1}
    )
    # 4 won deals for Ana x 5; Ben 3 in crm + 1 in files = 4 x 5
    assert kit.balance(runtime, ana) == 20
    assert kit.balance(runtime, ben) == 20


def test_adding_the_person_later_remaps_and_pays(kit, feeds, sqlite_url) -> None:
    crm = feeds("crm")
    feeds("files")
    crm.put(kit.deal("z1", "Zed Unknown"), kit.deal("z2", "ZED@example.com"))
    runtime = kit.open(program(kit, [ANA, BEN]), sqlite_url)
    report = kit.sync(runtime)
    assert sum(report.unmatched_owners.values()) == 2
    assert set(owners(kit, runtime).values()) == {None}

    # Zed joins the roster; the source has nothing new to say.
    later = kit.open(program(kit, [ANA, BEN, ZED]), sqlite_url)
    report = kit.sync(later)
    assert report.facts_changed == 0
    assert owners(kit, later) == {"crm:z1": "zed@example.com", "crm:z2": "zed@example.com"}
    assert kit.balance(later, "zed@example.com") == 10  # 2 won deals x 5
    assert report.grants == 2


def test_removing_a_person_unmaps_their_facts_and_reverses(kit, feeds, sqlite_url) -> None:
    crm = feeds("crm")
    feeds("files")
    crm.put(kit.deal("z1", "Zed Unknown"))
    runtime = kit.open(program(kit, [ANA, ZED]), sqlite_url)
    kit.sync(runtime)
    assert kit.balance(runtime, "zed@example.com") == 5
    later = kit.open(program(kit, [ANA]), sqlite_url)
    kit.sync(later)
    assert owners(kit, later) == {"crm:z1": None}
    # Zed's history stays (participant kept, inactive); his grant is reversed, not deleted.
    assert [g["status"] for g in kit.rows(later, "grants")] == ["reversed"]
    assert kit.balance(later, "zed@example.com") == 0
    (zed,) = [p for p in kit.rows(later, "participants") if p["key"] == "zed@example.com"]
    assert zed["active"] is False


def test_resolution_priority() -> None:
    # An explicit id beats an email, which beats a name, which beats an alias.
    people = [
        Participant("a@x", "Alpha", "a@x", None, None, None, None, aliases=("Bravo",)),
        Participant("b@x", "Bravo", "b@x", None, None, None, None, ids={"crm": ("a@x",)}),
    ]
    resolver = OwnerResolver("crm", people, {"a@x": 1, "b@x": 2})
    assert resolver.resolve("Bravo") == 2  # name of b beats alias of a
    assert resolver.resolve("a@x") == 2  # b's explicit crm id beats a's email
    other = OwnerResolver("files", people, {"a@x": 1, "b@x": 2})
    assert other.resolve("a@x") == 1  # no explicit ids in this source
    assert other.resolve("nobody") is None
    assert other.unmatched == {"nobody": 1}


def test_normalise() -> None:
    assert normalise("  Ana \t  SILVA\n") == "ana silva"
    assert normalise("STRASSE") == normalise("straße")  # casefold, not lower


def test_a_name_two_participants_share_matches_nobody_and_is_reported() -> None:
    # Two people called "Ana Silva": the name is ambiguous, so it must not be guessed; their
    # emails still resolve. A third person's alias equal to that name is a lower level and
    # does not break the tie either.
    people = [
        Participant("ana1@example.com", "Ana Silva", "ana1@example.com", None, None, None, None),
        Participant("ana2@example.com", "Ana Silva", "ana2@example.com", None, None, None, None),
        Participant(
            "cy@example.com", "Cy", "cy@example.com", None, None, None, None, ("Ana Silva",)
        ),
    ]
    ids = {"ana1@example.com": 1, "ana2@example.com": 2, "cy@example.com": 3}
    resolver = OwnerResolver("crm", people, ids)
    assert resolver.resolve("ana silva") is None
    assert resolver.resolve("ANA1@example.com") == 1
    assert resolver.resolve("ana2@example.com") == 2
    assert resolver.unmatched == {"ana silva (ambiguous)": 1}


def test_a_shared_name_on_the_command_line_asks_for_a_key(tmp_path) -> None:
    from premia.errors import ConfigError
    from premia.plugins import Registry
    from premia.program import load_program

    path = tmp_path / "program.yaml"
    path.write_text(
        "name: x\nroster:\n  participants:\n"
        "    - {name: Ana Ruiz, email: ana1@example.com}\n"
        "    - {name: Ana Ruiz, email: ana2@example.com}\n"
    )
    program = load_program(path, Registry(load_entry_points=False))
    with pytest.raises(
        ConfigError, match=r"names 2 participants; use a key: ana1@example.com, ana2@example.com"
    ):
        program.participant("ana ruiz")
    assert program.participant("ANA2@example.com").email == "ana2@example.com"
