"""A twin connection reads what its caller reads: the caller's snapshot, role and scope settings, nothing newer."""

from __future__ import annotations

from sqlalchemy import text

from geo.access.principal import Principal, bind
from geo.snapshot import share_snapshot, twin_connection
from geo.uscc import make_uscc
from tests.workbench import WEST, WEST_FIRM, add_towns


def test_the_twin_sees_the_callers_snapshot_role_and_scope(county):
    """An officer of 西口镇 exports its snapshot; an enterprise committed after the export is not in the twin's
    view, and the twin runs under the same database role and riskmap.* settings, so row-level security shows it
    the officer's township's enterprises only, as it does the officer."""
    add_towns(county)
    with county.connect() as conn:
        west = conn.execute(text("SELECT id FROM township WHERE code = :c"), {"c": WEST}).scalar_one()
    officer = Principal(user_id=0, username="乡镇员甲", role="township_editor", township_codes=(WEST,),
                        township_ids=(west,))
    with county.connect() as conn:
        bind(conn, officer)
        seen_by_caller = conn.execute(text("SELECT current_user, array_agg(name ORDER BY id) FROM enterprise")).one()
        shared = share_snapshot(conn)
        assert shared is not None
        with county.begin() as other:  # committed after the export, in the officer's township
            other.execute(text("INSERT INTO enterprise (uscc, name, category, township_id, geom) VALUES "
                               "(:u, '西口新厂', 'hazchem', :t, ST_SetSRID(ST_MakePoint(111.2, 39.3), 4490))"),
                          {"u": make_uscc("9114093000000099X"), "t": west})
        with twin_connection(conn, shared) as twin:
            got = twin.execute(text(
                "SELECT current_user, current_setting('riskmap.user'), current_setting('riskmap.townships'), "
                "current_setting('transaction_isolation'), (SELECT array_agg(name ORDER BY id) FROM enterprise)")).one()
        conn.rollback()
    assert got[0] == seen_by_caller[0] == "riskmap_township_editor"
    assert got[1:4] == ("乡镇员甲", str(west), "repeatable read")
    assert got[4] == seen_by_caller[1] == [WEST_FIRM[0]]
    with county.connect() as conn:  # the new enterprise is there for anyone reading now
        bind(conn, officer)
        assert conn.execute(text("SELECT count(*) FROM enterprise")).scalar_one() == 2


def test_no_snapshot_is_shared_by_a_transaction_that_has_written_or_from_a_savepoint(county):
    """Rows a transaction has written are not committed, so a twin could not see them: such a caller shares no
    snapshot (its run reads everything itself); neither does a savepoint, which PostgreSQL cannot export from."""
    with county.connect() as conn:
        conn.execute(text("SELECT txid_current()"))  # as good as a write: the transaction has its id
        assert share_snapshot(conn) is None
        conn.rollback()
        with conn.begin_nested():
            assert share_snapshot(conn) is None
        conn.rollback()
