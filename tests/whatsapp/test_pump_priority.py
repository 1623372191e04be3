from __future__ import annotations

import json

from quita.whatsapp import jobs


def test_the_pump_yields_to_status_bursts_but_not_when_a_person_wrote() -> None:
    jobs.note_intake()
    assert jobs.yielding_to_intake()
    jobs.note_intake(person_waiting=True)
    assert not jobs.yielding_to_intake()


def test_message_bodies_are_told_from_status_bodies() -> None:
    inbound = {"entry": [{"changes": [{"value": {"messages": [{"from": "5511999990000", "type": "text"}]}}]}]}
    status = {"entry": [{"changes": [{"value": {"statuses": [{"id": "wamid.x", "status": "read"}]}}]}]}
    assert jobs.carries_messages(json.dumps(inbound).encode())
    assert not jobs.carries_messages(json.dumps(status).encode())
