"""Receiving by scan: each scanned tube is received, unexpected, a duplicate or another
shipment's; each expected tube not scanned is missing."""

from shipping import Reconciliation, reconcile

EXPECTED = ["10000001", "10000002", "10000003", "10000004"]


def test_a_complete_receipt_has_nothing_missing_or_extra() -> None:
    found = reconcile(EXPECTED, list(reversed(EXPECTED)))

    assert found == Reconciliation(
        received=tuple(reversed(EXPECTED)), missing=(), unexpected=(), duplicates=()
    )
    assert found.is_complete


def test_tubes_not_scanned_are_missing_in_manifest_order() -> None:
    found = reconcile(EXPECTED, ["10000003", "10000001"])

    assert found.received == ("10000003", "10000001")
    assert found.missing == ("10000002", "10000004")
    assert not found.is_complete


def test_a_tube_on_no_manifest_is_unexpected() -> None:
    found = reconcile(EXPECTED, [*EXPECTED, "99999990"])

    assert found.unexpected == ("99999990",)
    assert not found.is_complete


def test_a_tube_scanned_twice_is_received_once_and_named_as_a_duplicate() -> None:
    found = reconcile(EXPECTED, ["10000001", "10000002", "10000001", "99999990", "99999990"])

    assert found.received == ("10000001", "10000002")
    assert found.duplicates == ("10000001", "99999990")
    assert found.unexpected == ("99999990",)


def test_a_tube_expected_in_another_open_shipment_names_that_shipment() -> None:
    found = reconcile(EXPECTED, [*EXPECTED, "20000001"], {"20000001": "S0000018"})

    assert found.wrong_shipment == {"20000001": "S0000018"}
    assert found.unexpected == ()
    assert not found.is_complete


def test_scanner_line_ends_and_blank_scans_are_ignored() -> None:
    found = reconcile([" 10000001"], ["10000001\r\n", "", "  "])

    assert found == Reconciliation(received=("10000001",), missing=(), unexpected=(), duplicates=())
