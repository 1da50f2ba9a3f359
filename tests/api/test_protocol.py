"""The browser learns the run protocol from the server: the same statuses, event kinds and downloads the
database, the worker and the download endpoint use."""

from builder.graph.errors import ErrorCode
from training.models import Run, RunEvent
from training.protocol import DOWNLOADS, EventKind


def test_the_protocol_is_served_as_the_server_uses_it(ada):
    protocol = ada.get("/api/protocol").json()
    assert protocol["run_statuses"] == [value for value, _ in Run._meta.get_field("status").choices]
    assert set(protocol["active"]) | set(protocol["finished"]) == set(protocol["run_statuses"])
    assert set(protocol["resumable"]) < set(protocol["finished"])
    assert protocol["event_kinds"] == [kind.value for kind in EventKind]
    assert [d["name"] for d in protocol["downloads"]] == list(DOWNLOADS)
    assert set(protocol["error_codes"]) == {code.value for code in ErrorCode}
    assert set(protocol["document_errors"]) < set(protocol["error_codes"])


def test_every_event_kind_fits_the_column_that_stores_it():
    # SQLite ignores a CharField's max_length; PostgreSQL refuses the row, and the run stalls.
    column = RunEvent._meta.get_field("kind")
    for kind in EventKind:
        column.run_validators(kind.value)
